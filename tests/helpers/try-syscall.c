/* SPDX-License-Identifier: GPL-2.0-or-later */
/* try-syscall NAME...: makes one raw system call per NAME and prints
 * "NAME: OK", "NAME: ERRNO" (EPERM, ENOSYS...) or, when the call killed the
 * process, "NAME: SIGNAL" (SIGSEGV...), so that a test can check from inside
 * the sandbox what is denied and how, and compare with the same call
 * outside the filter (--seccomp=unconfined) or on the host.
 *
 * Each call runs in a child of its own: a call that kills its caller (int
 * 0x80 on a kernel without IA32 emulation dies with SIGSEGV) must not take
 * the other results with it.  The pseudo-call "crash" dies on purpose, so
 * that a test can prove it.
 *
 * Arguments are chosen so that, without the filter, the kernel answers
 * with something other than EPERM where it can: an error it finds before
 * its capability check (a bad flag, a bad fd, an invalid time), or success
 * where that is harmless.  Then EPERM inside can only come from the
 * filter.  Where the kernel checks a capability first (init_module, acct...)
 * it says EPERM either way, and only the unit test (tests/unit/
 * test-seccomp.c) proves the filter's rule. */
#include <errno.h>
#include <fcntl.h>
#include <linux/bpf.h>
#include <linux/keyctl.h>
#include <linux/perf_event.h>
#include <linux/quota.h>
#include <linux/reboot.h>
#include <linux/userfaultfd.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* A call that this architecture lacks: what the kernel would say.  (Unused
 * where the architecture has them all.) */
__attribute__ ((unused)) static long
absent (void)
{
  errno = ENOSYS;
  return -1;
}

static long
do_keyctl (void)
{
  /* Harmless, and allowed to anyone without the filter. */
  return syscall (SYS_keyctl, KEYCTL_GET_KEYRING_ID, KEY_SPEC_SESSION_KEYRING, 0);
}

static long
do_add_key (void)
{
  /* A key type that does not exist: ENODEV, and no key is ever added. */
  return syscall (SYS_add_key, "sbx-no-such-type", "sbx", "x", 1, KEY_SPEC_SESSION_KEYRING);
}

static long
do_request_key (void)
{
  /* No such key and no callout: ENOKEY. */
  return syscall (SYS_request_key, "user", "sbx-no-such-key", NULL, 0);
}

static long
do_bpf (void)
{
  /* A map lookup with the attributes at NULL: EFAULT.  Not a map creation,
   * which kernel.unprivileged_bpf_disabled refuses with EPERM before it
   * reads anything (before 6.5); kernels older than that still refuse
   * every command that way. */
  return syscall (SYS_bpf, BPF_MAP_LOOKUP_ELEM, NULL, sizeof (union bpf_attr));
}

static long
do_perf_event_open (void)
{
  /* A software counter on this process, user space only: allowed up to
   * kernel.perf_event_paranoid 2 (Debian's 3 refuses it with EACCES). */
  struct perf_event_attr attr;
  memset (&attr, 0, sizeof attr);
  attr.size = sizeof attr;
  attr.type = PERF_TYPE_SOFTWARE;
  attr.config = PERF_COUNT_SW_CPU_CLOCK;
  attr.exclude_kernel = 1;
  return syscall (SYS_perf_event_open, &attr, 0, -1, -1, 0);
}

/* Loading kernels and modules: the kernel checks its capability first
 * (EPERM), unless it was built without them (ENOSYS). */
static long
do_init_module (void)
{
  return syscall (SYS_init_module, NULL, 0, "");
}

static long
do_finit_module (void)
{
  return syscall (SYS_finit_module, -1, "", 0);
}

static long
do_delete_module (void)
{
  return syscall (SYS_delete_module, "sbx_none", 0);
}

static long
do_kexec_load (void)
{
  return syscall (SYS_kexec_load, 0, 0, NULL, 0);
}

static long
do_kexec_file_load (void)
{
#ifdef SYS_kexec_file_load
  return syscall (SYS_kexec_file_load, -1, -1, 0, "", 0);
#else
  return absent ();
#endif
}

static long
do_open_by_handle_at (void)
{
  /* No mount fd: recent kernels look at it first (EINVAL or EBADF), older
   * ones check CAP_DAC_READ_SEARCH first (EPERM). */
  char buf[sizeof (struct file_handle) + 8] = { 0 };
  return syscall (SYS_open_by_handle_at, -1, buf, O_RDONLY);
}

static long
do_userfaultfd (void)
{
  /* User-mode faults only: allowed to anyone without the filter (since
   * Linux 5.11), whatever vm.unprivileged_userfaultfd says. */
  long fd = syscall (SYS_userfaultfd, O_CLOEXEC | UFFD_USER_MODE_ONLY);
  if (fd >= 0)
    close ((int)fd);
  return fd;
}

static long
do_io_uring_setup (void)
{
  /* No parameters: EFAULT (EPERM only where kernel.io_uring_disabled). */
  return syscall (SYS_io_uring_setup, 1, NULL);
}

static long
do_io_uring_enter (void)
{
  return syscall (SYS_io_uring_enter, -1, 0, 0, 0, NULL, 0);
}

static long
do_io_uring_register (void)
{
  return syscall (SYS_io_uring_register, -1, 0, NULL, 0);
}

static long
do_mknod_block (void)
{
  return mknod ("/tmp/sbx-block", S_IFBLK | 0600, makedev (8, 0));
}

static long
do_mknod_char (void)
{
  return mknod ("/tmp/sbx-char", S_IFCHR | 0600, makedev (1, 3));
}

static long
do_tiocsti (void)
{
  char c = '#';
  return ioctl (0, TIOCSTI, &c);
}

static long
do_tioclinux (void)
{
  char sub = 6; /* TIOCL_GETSHIFTSTATE */
  return ioctl (0, TIOCLINUX, &sub);
}

static long
do_int80 (void)
{
#if defined(__x86_64__)
  long ret;
  /* The 32-bit ABI's getpid (20) from a 64-bit process.  Without IA32
   * emulation the kernel kills the caller with SIGSEGV. */
  __asm__ volatile("int $0x80" : "=a"(ret) : "a"(20) : "memory");
  if (ret < 0)
    {
      errno = (int)-ret;
      return -1;
    }
  return ret;
#else
  return absent ();
#endif
}

static long
do_reboot (void)
{
  /* A wrong second magic number: EINVAL, found after the capability check
   * (CAP_SYS_BOOT in the user namespace owning the PID namespace, which
   * root inside has with --cap-add ALL), so that nothing reboots. */
  return syscall (SYS_reboot, LINUX_REBOOT_MAGIC1, 0, LINUX_REBOOT_CMD_CAD_OFF, NULL);
}

static long
do_syslog (void)
{
  /* Refused with EPERM under kernel.dmesg_restrict, allowed otherwise. */
  return syscall (SYS_syslog, 10 /* SYSLOG_ACTION_SIZE_BUFFER */, NULL, 0);
}

static long
do_acct (void)
{
  /* The kernel checks CAP_SYS_PACCT before it looks at anything. */
  return syscall (SYS_acct, NULL);
}

static long
do_swapon (void)
{
  /* An unknown flag: EINVAL, found before CAP_SYS_ADMIN. */
  return syscall (SYS_swapon, "/nonexistent", 0x100000);
}

static long
do_swapoff (void)
{
  return syscall (SYS_swapoff, "/nonexistent");
}

static long
do_clock_settime (void)
{
  /* An invalid time: EINVAL, found before CAP_SYS_TIME (so the clock could
   * not change even if the capability were there). */
  struct timespec ts = { 0, 1000000000 };
  return syscall (SYS_clock_settime, CLOCK_REALTIME, &ts);
}

static long
do_settimeofday (void)
{
  struct timeval tv = { 0, 2000000 };
  return syscall (SYS_settimeofday, &tv, NULL);
}

static long
do_quotactl (void)
{
  /* A quota type that does not exist: EINVAL before anything else. */
  return syscall (SYS_quotactl, QCMD (Q_SYNC, 99), NULL, 0, NULL);
}

static long
do_lookup_dcookie (void)
{
#ifdef SYS_lookup_dcookie
  /* Gone from recent kernels (ENOSYS); CAP_SYS_ADMIN first before. */
  return syscall (SYS_lookup_dcookie, 0, NULL, 0);
#else
  return absent ();
#endif
}

static long
do_nfsservctl (void)
{
#ifdef SYS_nfsservctl
  /* Removed in Linux 3.1: ENOSYS. */
  return syscall (SYS_nfsservctl, 0, NULL, NULL);
#else
  return absent ();
#endif
}

static long
do_uselib (void)
{
#ifdef SYS_uselib
  /* ENOENT where the kernel still has it, ENOSYS where not. */
  return syscall (SYS_uselib, "/nonexistent");
#else
  return absent ();
#endif
}

static long
do_unshare_user (void)
{
  return unshare (CLONE_NEWUSER);
}

static long
do_getpid (void)
{
  return syscall (SYS_getpid);
}

static long
do_crash (void)
{
  /* Dies as a call without IA32 emulation would, to prove that the next
   * calls still run. */
  raise (SIGSEGV);
  return 0;
}

typedef long (*call_fn) (void);

static const struct
{
  const char *name;
  call_fn call;
} calls[] = {
  { "acct", do_acct },
  { "add_key", do_add_key },
  { "bpf", do_bpf },
  { "clock_settime", do_clock_settime },
  { "crash", do_crash },
  { "delete_module", do_delete_module },
  { "finit_module", do_finit_module },
  { "getpid", do_getpid },
  { "init_module", do_init_module },
  { "int80", do_int80 },
  { "io_uring_enter", do_io_uring_enter },
  { "io_uring_register", do_io_uring_register },
  { "io_uring_setup", do_io_uring_setup },
  { "kexec_file_load", do_kexec_file_load },
  { "kexec_load", do_kexec_load },
  { "keyctl", do_keyctl },
  { "lookup_dcookie", do_lookup_dcookie },
  { "mknod_block", do_mknod_block },
  { "mknod_char", do_mknod_char },
  { "nfsservctl", do_nfsservctl },
  { "open_by_handle_at", do_open_by_handle_at },
  { "perf_event_open", do_perf_event_open },
  { "quotactl", do_quotactl },
  { "reboot", do_reboot },
  { "request_key", do_request_key },
  { "settimeofday", do_settimeofday },
  { "swapoff", do_swapoff },
  { "swapon", do_swapon },
  { "syslog", do_syslog },
  { "tiocsti", do_tiocsti },
  { "tioclinux", do_tioclinux },
  { "unshare_user", do_unshare_user },
  { "uselib", do_uselib },
  { "userfaultfd", do_userfaultfd },
};

static call_fn
lookup (const char *name)
{
  for (size_t i = 0; i < sizeof calls / sizeof calls[0]; i++)
    if (strcmp (calls[i].name, name) == 0)
      return calls[i].call;
  return NULL;
}

/* Runs @call in a child and prints how it ended. */
static void
run (const char *name, call_fn call)
{
  pid_t pid = fork ();
  if (pid < 0)
    {
      perror ("try-syscall: fork");
      exit (1);
    }
  if (pid == 0)
    {
      /* A fault must kill the child with its signal, as it would kill a
       * program: no handler (a sanitizer installs some) turns it into an
       * exit status.  And no core file is left in the working directory. */
      static const int fatal[] = { SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGSYS };
      for (size_t i = 0; i < sizeof fatal / sizeof fatal[0]; i++)
        signal (fatal[i], SIG_DFL);
      struct rlimit none = { 0, 0 };
      setrlimit (RLIMIT_CORE, &none);
      prctl (PR_SET_DUMPABLE, 0, 0, 0, 0);
      errno = 0;
      long r = call ();
      /* The errno as the exit status (all fit in 1..254); 255 for a
       * failure without one. */
      _exit (r >= 0 ? 0 : errno > 0 && errno < 255 ? errno : 255);
    }
  int status;
  while (waitpid (pid, &status, 0) < 0)
    if (errno != EINTR)
      {
        perror ("try-syscall: waitpid");
        exit (1);
      }
  if (WIFSIGNALED (status))
    {
      const char *sig = sigabbrev_np (WTERMSIG (status));
      if (sig != NULL)
        printf ("%s: SIG%s\n", name, sig);
      else
        printf ("%s: signal %d\n", name, WTERMSIG (status));
    }
  else if (WEXITSTATUS (status) == 0)
    printf ("%s: OK\n", name);
  else
    {
      const char *err = strerrorname_np (WEXITSTATUS (status));
      if (err != NULL && WEXITSTATUS (status) != 255)
        printf ("%s: %s\n", name, err);
      else
        printf ("%s: error %d\n", name, WEXITSTATUS (status));
    }
}

int
main (int argc, char **argv)
{
  /* Line by line: each result is out before the next call starts. */
  setvbuf (stdout, NULL, _IOLBF, 0);
  for (int i = 1; i < argc; i++)
    if (lookup (argv[i]) == NULL)
      {
        fprintf (stderr, "try-syscall: unknown call %s\n", argv[i]);
        return 2;
      }
  for (int i = 1; i < argc; i++)
    run (argv[i], lookup (argv[i]));
  return 0;
}
