/* SPDX-License-Identifier: GPL-2.0-or-later */
/* security.c: capabilities (libcap), no_new_privs, the session, and the
 * refusal to run with privileges sbx must not carry. */
#include "config.h"

#include "security.h"
#include "seccomp-rules.h"
#include "util.h"

#if __has_include("seccomp-filter.h")
#include "seccomp-filter.h"
#define SBX_SECCOMP_PRECOMPILED 1
#endif

#include <errno.h>
#include <fcntl.h>
#include <linux/close_range.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sys/syscall.h>
#include <sys/auxv.h>
#include <sys/ioctl.h>
#include <sys/capability.h>
#include <sys/prctl.h>
#include <stdio.h>
#include <unistd.h>

#define CAP_BIT(c) (G_GUINT64_CONSTANT (1) << (c))

void
sbx_security_refuse_privileged (void)
{
  /* AT_SECURE is set by the kernel for setuid/setgid executables and for
   * file capabilities alike; a privileged sbx would let a user mount and map
   * what they cannot, so there is no safe way to go on. */
  if (getauxval (AT_SECURE) != 0)
    {
      /* _exit: nothing was set up, and no atexit handler (a sanitizer's
       * leak check among them) should run in a privileged process. */
      fputs ("sbx: refusing to run setuid, setgid or with file capabilities\n", stderr);
      _exit (SBX_EXIT_FAILURE);
    }
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
  guint64 caps = 0, all = 0;

  for (int c = 0; c < cap_max_bits () && c < 64; c++)
    all |= CAP_BIT (c);
  if (spec->identity == SBX_ID_ROOT)
    for (guint i = 0; i < G_N_ELEMENTS (root_default); i++)
      caps |= CAP_BIT (root_default[i]);
  /* As podman: --cap-drop ALL empties the set before the additions,
   * --cap-add ALL fills it before the drops; named drops win. */
  if (spec->cap_drop_all)
    caps = 0;
  caps |= spec->cap_add_all ? all : spec->cap_add;
  caps &= ~spec->cap_drop;
  /* Capabilities of the sandbox's user namespace only: they act on what it
   * owns, never on the host. */
  return caps & all;
}

cap_t
sbx_security_caps_new (guint64 caps)
{
  cap_t set = cap_init ();
  if (set == NULL)
    sbx_die_errno ("cap_init");
  for (int c = 0; c < cap_max_bits () && c < 64; c++)
    if (caps & CAP_BIT (c))
      {
        cap_value_t v = (cap_value_t)c;
        if (cap_set_flag (set, CAP_PERMITTED, 1, &v, CAP_SET) < 0
            || cap_set_flag (set, CAP_EFFECTIVE, 1, &v, CAP_SET) < 0
            || cap_set_flag (set, CAP_INHERITABLE, 1, &v, CAP_SET) < 0)
          sbx_die_errno ("cap_set_flag");
      }
  return set;
}

void
sbx_security_caps_apply (cap_t set, guint64 caps, gboolean root_inside)
{
  int last = cap_max_bits () - 1;

  /* The bounding set first, while CAP_SETPCAP is still effective: once a cap
   * is out of it, no execve (setuid or file caps) can bring it back. */
  for (int c = 0; c <= last; c++)
    if (!(caps & CAP_BIT (c)) && cap_drop_bound ((cap_value_t)c) < 0 && errno != EINVAL)
      sbx_die_errno ("cannot drop capability %d from the bounding set", c);

  if (cap_set_proc (set) < 0)
    sbx_die_errno ("cannot set the capabilities of the command");

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
sbx_security_apply_caps (guint64 caps, gboolean root_inside)
{
  cap_t set = sbx_security_caps_new (caps);
  sbx_security_caps_apply (set, caps, root_inside);
  cap_free (set);
}

void
sbx_security_drop_all_caps (void)
{
  sbx_security_apply_caps (0, FALSE);
}

void
sbx_security_close_inherited_fds (void)
{
  /* The setup's own fds are close-on-exec already; the caller's may not be. */
  if (syscall (SYS_close_range, 3, ~0U, CLOSE_RANGE_CLOEXEC) < 0)
    for (int fd = 3; fd < 1024; fd++)
      fcntl (fd, F_SETFD, FD_CLOEXEC);
}

/* Whether the host lets unprivileged users have userfaultfd anyway
 * (vm.unprivileged_userfaultfd = 1): then denying it inside gains nothing. */
static gboolean
host_allows_userfaultfd (void)
{
  char c = '0';
  cleanup_fd int fd = open ("/proc/sys/vm/unprivileged_userfaultfd", O_RDONLY | O_CLOEXEC);
  return fd >= 0 && read (fd, &c, 1) == 1 && c == '1';
}

void
sbx_security_seccomp_variant (struct sock_fprog *prog, gboolean deny_userfaultfd)
{
#ifdef SBX_SECCOMP_PRECOMPILED
  /* Compiled by libseccomp at build time (seccomp-gen.c): the same rules,
   * without a fifth of a millisecond of compiling on every run. */
  prog->filter
      = (struct sock_filter *)(deny_userfaultfd ? sbx_seccomp_filter : sbx_seccomp_filter_uffd);
  prog->len = deny_userfaultfd ? G_N_ELEMENTS (sbx_seccomp_filter)
                               : G_N_ELEMENTS (sbx_seccomp_filter_uffd);
#else
  /* A cross build: compiled here, for the running architecture. */
  static struct sock_filter program[BPF_MAXINSNS];
  int r = 0;
  scmp_filter_ctx ctx = sbx_seccomp_rules_build (deny_userfaultfd, &r);
  if (ctx != NULL)
    {
      r = sbx_seccomp_rules_export (ctx, program, G_N_ELEMENTS (program));
      seccomp_release (ctx);
    }
  if (r <= 0)
    {
      errno = -r;
      sbx_die_errno ("cannot create the seccomp filter");
    }
  prog->filter = program;
  prog->len = (unsigned short)r;
#endif
}

void
sbx_security_seccomp_program (struct sock_fprog *prog)
{
  sbx_security_seccomp_variant (prog, !host_allows_userfaultfd ());
}

void
sbx_security_load_seccomp (const struct sock_fprog *prog)
{
  /* no_new_privs is set (sbx_security_isolate_process): an unprivileged
   * process may install a filter then, and the filter binds everything it
   * executes.  Only this process: PID 1 is never filtered. */
  if (prctl (PR_SET_SECCOMP, SECCOMP_MODE_FILTER, prog, 0, 0) < 0)
    sbx_die_errno ("cannot install the seccomp filter");
}

void
sbx_security_install_seccomp (void)
{
  struct sock_fprog prog;
  sbx_security_seccomp_program (&prog);
  sbx_security_load_seccomp (&prog);
}

void
sbx_security_new_session (gboolean share_tty)
{
  /* Without a new session, a command could push keystrokes into the
   * caller's terminal with ioctl(TIOCSTI) (CVE-2017-5226). */
  if (!share_tty && setsid () < 0)
    sbx_die_errno ("setsid");
}

void
sbx_security_no_new_privs (void)
{
  /* Setuid bits and file capabilities are ignored from here on. */
  if (prctl (PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
    sbx_die_errno ("cannot set no_new_privs");
}

void
sbx_security_isolate_process (const SbxSpec *spec)
{
  sbx_security_new_session (spec->share_tty);
  sbx_security_no_new_privs ();
}
