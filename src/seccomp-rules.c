/* SPDX-License-Identifier: GPL-2.0-or-later */
/* seccomp-rules.c: the rules of the default system call filter. */
#include "config.h"

#include "seccomp-rules.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/filter.h>
#include <sys/ioctl.h>
#include <unistd.h>

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

scmp_filter_ctx
sbx_seccomp_rules_build (int deny_userfaultfd, int *err)
{
  scmp_filter_ctx ctx = seccomp_init (SCMP_ACT_ALLOW);
  if (ctx == NULL)
    {
      *err = -ENOMEM;
      return NULL;
    }
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
  if (r == 0 && deny_userfaultfd)
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
  if (r != 0)
    {
      seccomp_release (ctx);
      *err = r;
      return NULL;
    }
  return ctx;
}

int
sbx_seccomp_rules_export (scmp_filter_ctx ctx, void *buf, unsigned int max)
{
  /* libseccomp before 2.6 exports to an fd only: a pipe holds the program
   * (at most BPF_MAXINSNS instructions, 32 KiB: less than a pipe's buffer,
   * so the export cannot block). */
  int p[2];
  if (max > BPF_MAXINSNS || pipe2 (p, O_CLOEXEC) < 0)
    return -EINVAL;
  int r = seccomp_export_bpf (ctx, p[1]);
  close (p[1]);
  size_t want = (size_t)max * sizeof (struct sock_filter), got = 0;
  char extra;
  while (r == 0)
    {
      ssize_t n = got < want ? read (p[0], (char *)buf + got, want - got) : read (p[0], &extra, 1);
      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        r = -errno;
      else if (n > 0 && got == want)
        r = -E2BIG;
      if (n <= 0 || r != 0)
        break;
      got += (size_t)n;
    }
  close (p[0]);
  if (r == 0 && got % sizeof (struct sock_filter) != 0)
    r = -EINVAL;
  return r != 0 ? r : (int)(got / sizeof (struct sock_filter));
}
