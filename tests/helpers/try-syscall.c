/* SPDX-License-Identifier: GPL-2.0-or-later */
/* try-syscall NAME...: makes one raw system call per NAME, with harmless
 * arguments, and prints "NAME: OK" or "NAME: ERRNO" (EPERM, ENOSYS...), so
 * that a test can check from inside the sandbox what is denied and how. */
#include <errno.h>
#include <fcntl.h>
#include <linux/bpf.h>
#include <linux/keyctl.h>
#include <linux/perf_event.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <time.h>
#include <unistd.h>

static long
int80_getpid (void)
{
#if defined(__x86_64__)
  long ret;
  /* The 32-bit ABI's getpid (20) from a 64-bit process. */
  __asm__ volatile("int $0x80" : "=a"(ret) : "a"(20) : "memory");
  if (ret < 0)
    {
      errno = (int)-ret;
      return -1;
    }
  return ret;
#else
  errno = ENOSYS;
  return -1;
#endif
}

static long
call (const char *name)
{
  if (strcmp (name, "keyctl") == 0)
    return syscall (SYS_keyctl, KEYCTL_GET_KEYRING_ID, KEY_SPEC_SESSION_KEYRING, 0);
  if (strcmp (name, "add_key") == 0)
    return syscall (SYS_add_key, "user", "sbx", "x", 1, KEY_SPEC_SESSION_KEYRING);
  if (strcmp (name, "request_key") == 0)
    return syscall (SYS_request_key, "user", "sbx", NULL, KEY_SPEC_SESSION_KEYRING);
  if (strcmp (name, "bpf") == 0)
    {
      union bpf_attr attr;
      memset (&attr, 0, sizeof attr);
      attr.map_type = BPF_MAP_TYPE_ARRAY;
      attr.key_size = 4;
      attr.value_size = 4;
      attr.max_entries = 1;
      return syscall (SYS_bpf, BPF_MAP_CREATE, &attr, sizeof attr);
    }
  if (strcmp (name, "perf_event_open") == 0)
    {
      struct perf_event_attr attr;
      memset (&attr, 0, sizeof attr);
      attr.size = sizeof attr;
      attr.type = PERF_TYPE_SOFTWARE;
      attr.config = PERF_COUNT_SW_CPU_CLOCK;
      attr.exclude_kernel = 1;
      return syscall (SYS_perf_event_open, &attr, 0, -1, -1, 0);
    }
  if (strcmp (name, "init_module") == 0)
    return syscall (SYS_init_module, "", 0, "");
  if (strcmp (name, "finit_module") == 0)
    return syscall (SYS_finit_module, 0, "", 0);
  if (strcmp (name, "delete_module") == 0)
    return syscall (SYS_delete_module, "sbx_none", 0);
  if (strcmp (name, "kexec_load") == 0)
    return syscall (SYS_kexec_load, 0, 0, NULL, 0);
  if (strcmp (name, "open_by_handle_at") == 0)
    {
      char buf[sizeof (struct file_handle) + 8] = { 0 };
      return syscall (SYS_open_by_handle_at, AT_FDCWD, buf, O_RDONLY);
    }
  if (strcmp (name, "userfaultfd") == 0)
    return syscall (SYS_userfaultfd, 0);
  if (strcmp (name, "io_uring_setup") == 0)
    return syscall (SYS_io_uring_setup, 1, NULL);
  if (strcmp (name, "mknod_block") == 0)
    return mknod ("/tmp/sbx-block", S_IFBLK | 0600, makedev (8, 0));
  if (strcmp (name, "mknod_char") == 0)
    return mknod ("/tmp/sbx-char", S_IFCHR | 0600, makedev (1, 3));
  if (strcmp (name, "tiocsti") == 0)
    {
      char c = '#';
      return ioctl (0, TIOCSTI, &c);
    }
  if (strcmp (name, "tioclinux") == 0)
    {
      char sub = 6; /* TIOCL_GETSHIFTSTATE */
      return ioctl (0, TIOCLINUX, &sub);
    }
  if (strcmp (name, "int80") == 0)
    return int80_getpid ();
  if (strcmp (name, "reboot") == 0)
    return syscall (SYS_reboot, 0xfee1dead, 672274793, 0x4321FEDC, NULL); /* CAD_OFF */
  if (strcmp (name, "syslog") == 0)
    return syscall (SYS_syslog, 10 /* SIZE_BUFFER */, NULL, 0);
  if (strcmp (name, "acct") == 0)
    return syscall (SYS_acct, NULL);
  if (strcmp (name, "swapon") == 0)
    return syscall (SYS_swapon, "/nonexistent", 0);
  if (strcmp (name, "clock_settime") == 0)
    {
      struct timespec ts = { 0 };
      clock_gettime (CLOCK_REALTIME, &ts);
      return syscall (SYS_clock_settime, CLOCK_REALTIME, &ts);
    }
  if (strcmp (name, "unshare_user") == 0)
    return unshare (CLONE_NEWUSER);
  if (strcmp (name, "getpid") == 0)
    return syscall (SYS_getpid);
  errno = EINVAL;
  fprintf (stderr, "try-syscall: unknown call %s\n", name);
  return -2;
}

int
main (int argc, char **argv)
{
  for (int i = 1; i < argc; i++)
    {
      errno = 0;
      long r = call (argv[i]);
      if (r == -2)
        return 2;
      if (r < 0)
        printf ("%s: %s\n", argv[i], strerrorname_np (errno));
      else
        printf ("%s: OK\n", argv[i]);
    }
  return 0;
}
