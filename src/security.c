/* SPDX-License-Identifier: GPL-2.0-or-later */
/* security.c: capabilities (libcap), no_new_privs, the session, and the
 * refusal to run with privileges sbx must not carry. */
#include "config.h"

#include "security.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/close_range.h>
#include <seccomp.h>
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

/* The system calls the default filter denies with EPERM, each with why.
 * In the spirit of podman's and Docker's default profiles; a name the
 * running kernel's architecture lacks is skipped. */
static const char *const denied_syscalls[] = {
  /* The kernel keyring is not namespaced: keys of the host's user. */
  "keyctl",
  "add_key",
  "request_key",
  /* eBPF and perf: large kernel attack surface, host-wide observation. */
  "bpf",
  "perf_event_open",
  /* Loading kernels and modules (also need host capabilities). */
  "kexec_load",
  "kexec_file_load",
  "init_module",
  "finit_module",
  "delete_module",
  /* File handles bypass path permissions (the "shocker" escape). */
  "open_by_handle_at",
  /* io_uring: a history of privilege escalations; programs fall back. */
  "io_uring_setup",
  "io_uring_enter",
  "io_uring_register",
  /* Obsolete or host-wide calls nobody in a sandbox needs. */
  "acct",
  "lookup_dcookie",
  "nfsservctl",
  "uselib",
  "vm86",
  "vm86old",
  "quotactl",
  "swapon",
  "swapoff",
  "reboot",
  "settimeofday",
  "clock_settime",
  "stime",
  /* The kernel log: host information (dmesg_restrict may allow it). */
  "syslog",
  NULL,
};

void
sbx_security_close_inherited_fds (void)
{
  /* The setup's own fds are close-on-exec already; the caller's may not be. */
  if (syscall (SYS_close_range, 3, ~0U, CLOSE_RANGE_CLOEXEC) < 0)
    for (int fd = 3; fd < 1024; fd++)
      fcntl (fd, F_SETFD, FD_CLOEXEC);
}

void
sbx_security_install_seccomp (void)
{
  scmp_filter_ctx ctx = seccomp_init (SCMP_ACT_ALLOW);
  if (ctx == NULL)
    sbx_die ("cannot create the seccomp filter");
  /* Denied calls fail with EPERM, so that programs see an error they
   * handle instead of dying; the 32-bit and x32 ABIs on x86_64 too (every
   * call of a foreign ABI fails: old, rarely audited entry points). */
  int r = seccomp_attr_set (ctx, SCMP_FLTATR_ACT_BADARCH, SCMP_ACT_ERRNO (EPERM));
  for (const char *const *name = denied_syscalls; r == 0 && *name != NULL; name++)
    {
      int nr = seccomp_syscall_resolve_name (*name);
      if (nr != __NR_SCMP_ERROR)
        r = seccomp_rule_add (ctx, SCMP_ACT_ERRNO (EPERM), nr, 0);
    }
  /* userfaultfd stalls kernel threads at will (a tool of many exploits);
   * denied unless the host allows it to unprivileged users anyway. */
  g_autofree char *uffd = NULL;
  if (r == 0
      && !(g_file_get_contents ("/proc/sys/vm/unprivileged_userfaultfd", &uffd, NULL, NULL)
           && uffd[0] == '1'))
    r = seccomp_rule_add (ctx, SCMP_ACT_ERRNO (EPERM), SCMP_SYS (userfaultfd), 0);
  /* Pushing input into a terminal (TIOCSTI: CVE-2017-5226, keystrokes run
   * by the caller's shell) or poking the console (TIOCLINUX).  The request
   * is an unsigned int: compare the low 32 bits only. */
  if (r == 0)
    r = seccomp_rule_add (ctx, SCMP_ACT_ERRNO (EPERM), SCMP_SYS (ioctl), 1,
                          SCMP_A1_64 (SCMP_CMP_MASKED_EQ, 0xffffffffu, TIOCSTI));
  if (r == 0)
    r = seccomp_rule_add (ctx, SCMP_ACT_ERRNO (EPERM), SCMP_SYS (ioctl), 1,
                          SCMP_A1_64 (SCMP_CMP_MASKED_EQ, 0xffffffffu, TIOCLINUX));
  if (r == 0)
    r = seccomp_load (ctx);
  seccomp_release (ctx);
  if (r != 0)
    {
      errno = -r;
      sbx_die_errno ("cannot install the seccomp filter");
    }
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
