/* SPDX-License-Identifier: GPL-2.0-or-later */
/* security.c: capabilities (libcap), no_new_privs, the session, and the
 * refusal to run with privileges sbx must not carry. */
#include "config.h"

#include "security.h"
#include "util.h"

#include <errno.h>
#include <sys/auxv.h>
#include <sys/capability.h>
#include <sys/prctl.h>
#include <unistd.h>

#define CAP_BIT(c) (G_GUINT64_CONSTANT (1) << (c))

void
sbx_security_refuse_privileged (void)
{
  /* AT_SECURE is set by the kernel for setuid/setgid executables and for
   * file capabilities alike; a privileged sbx would let a user mount and map
   * what they cannot, so there is no safe way to go on. */
  if (getauxval (AT_SECURE) != 0)
    sbx_die ("refusing to run setuid, setgid or with file capabilities");
}

guint64
sbx_security_command_caps (const SbxSpec *spec)
{
  /* The set podman gives root in a container: enough for package managers
   * and `make install` (chown, setuid/setgid helpers, binding low ports),
   * nothing that reaches the kernel (no SYS_ADMIN, NET_ADMIN, SYS_PTRACE,
   * SYS_MODULE, MKNOD, NET_RAW, AUDIT_WRITE). */
  static const cap_value_t root_default[] = {
    CAP_CHOWN,   CAP_DAC_OVERRIDE, CAP_FOWNER,  CAP_FSETID, CAP_KILL,       CAP_NET_BIND_SERVICE,
    CAP_SETFCAP, CAP_SETGID,       CAP_SETPCAP, CAP_SETUID, CAP_SYS_CHROOT,
  };
  guint64 caps = 0;

  if (spec->identity == SBX_ID_ROOT)
    for (guint i = 0; i < G_N_ELEMENTS (root_default); i++)
      caps |= CAP_BIT (root_default[i]);
  return caps;
}

void
sbx_security_apply_caps (guint64 caps, gboolean root_inside)
{
  int last = cap_max_bits () - 1;

  /* The bounding set first, while CAP_SETPCAP is still effective: once a cap
   * is out of it, no execve (setuid or file caps) can bring it back. */
  for (int c = 0; c <= last; c++)
    if (!(caps & CAP_BIT (c)) && cap_drop_bound ((cap_value_t)c) < 0 && errno != EINVAL)
      sbx_die_errno ("cannot drop capability %d from the bounding set", c);

  cap_t set = cap_init ();
  if (set == NULL)
    sbx_die_errno ("cap_init");
  for (int c = 0; c <= last; c++)
    if (caps & CAP_BIT (c))
      {
        cap_value_t v = (cap_value_t)c;
        if (cap_set_flag (set, CAP_PERMITTED, 1, &v, CAP_SET) < 0
            || cap_set_flag (set, CAP_EFFECTIVE, 1, &v, CAP_SET) < 0
            || cap_set_flag (set, CAP_INHERITABLE, 1, &v, CAP_SET) < 0)
          sbx_die_errno ("cap_set_flag");
      }
  if (cap_set_proc (set) < 0)
    sbx_die_errno ("cannot set the capabilities of the command");
  cap_free (set);

  /* A non-root uid loses its permitted set at execve(); ambient caps are
   * how a kept capability survives it.  Root gets the bounding set anyway. */
  if (cap_reset_ambient () < 0 && errno != EINVAL)
    sbx_die_errno ("cannot clear the ambient capabilities");
  if (!root_inside)
    for (int c = 0; c <= last; c++)
      if ((caps & CAP_BIT (c)) && cap_set_ambient ((cap_value_t)c, CAP_SET) < 0)
        sbx_die_errno ("cannot raise ambient capability %d", c);
}

void
sbx_security_drop_all_caps (void)
{
  sbx_security_apply_caps (0, FALSE);
}

void
sbx_security_isolate_process (const SbxSpec *spec)
{
  /* Without a new session, a command could push keystrokes into the
   * caller's terminal with ioctl(TIOCSTI) (CVE-2017-5226). */
  if (!spec->share_tty && setsid () < 0)
    sbx_die_errno ("setsid");
  /* No execve() inside gains privileges: setuid bits and file capabilities
   * are ignored from here on. */
  if (prctl (PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
    sbx_die_errno ("cannot set no_new_privs");
}
