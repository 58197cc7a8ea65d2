/* SPDX-License-Identifier: GPL-2.0-or-later */
/* isolate.c: sbx-net isolates itself once libslirp runs (STYLE.md 16): a
 * user and mount namespace of its own with an empty root (plus the host's
 * resolv.conf, which libslirp and, under an egress policy, egress.c read
 * for DNS), no capabilities, not dumpable, no_new_privs, and a seccomp
 * allow-list.  What the sandbox could make of a bug in libslirp or in
 * sbx-net is then little more than the sockets sbx-net holds.  The egress
 * policy's forwarding to the host's resolvers needs nothing more than
 * libslirp's own sockets do (socket, connect, sendto, recvfrom, sendmsg,
 * getsockopt, getrandom for its ids, openat and read for resolv.conf). */
#include "config.h"

#include "sbx-net.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <sched.h>
#include <seccomp.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

/* A user and mount namespace of our own, whose root is an empty tmpfs with
 * only the host's resolv.conf (libslirp and egress.c read it for DNS; bound
 * from where the symlink points, so systemd-resolved's stub works). */
static void
isolate_filesystem (void)
{
  uid_t uid = getuid ();
  gid_t gid = getgid ();
  g_autofree char *resolv = realpath ("/etc/resolv.conf", NULL);

  if (unshare (CLONE_NEWUSER | CLONE_NEWNS) < 0)
    sbx_net_fatal ("cannot isolate itself (user namespace): %s", sbx_util_strerror (errno));
  g_autofree char *uid_map = g_strdup_printf ("%u %u 1", uid, uid);
  g_autofree char *gid_map = g_strdup_printf ("%u %u 1", gid, gid);
  if (!sbx_util_write_file_at (AT_FDCWD, "/proc/self/setgroups", "deny")
      || !sbx_util_write_file_at (AT_FDCWD, "/proc/self/gid_map", gid_map)
      || !sbx_util_write_file_at (AT_FDCWD, "/proc/self/uid_map", uid_map))
    sbx_net_fatal ("cannot map its ids: %s", sbx_util_strerror (errno));
  if (mount (NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0
      || mount ("tmpfs", "/tmp", "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, "size=64k,mode=0755")
             < 0
      || mkdir ("/tmp/etc", 0755) < 0)
    sbx_net_fatal ("cannot isolate itself (mounts): %s", sbx_util_strerror (errno));
  if (resolv != NULL)
    {
      int fd = open ("/tmp/etc/resolv.conf", O_CREAT | O_WRONLY | O_CLOEXEC, 0644);
      if (fd >= 0)
        close (fd);
      if (mount (resolv, "/tmp/etc/resolv.conf", NULL, MS_BIND, NULL) < 0)
        sbx_net_fatal ("cannot bind %s: %s", resolv, sbx_util_strerror (errno));
    }
  if (chdir ("/tmp") < 0 || syscall (SYS_pivot_root, ".", ".") < 0 || umount2 (".", MNT_DETACH) < 0
      || chdir ("/") < 0)
    sbx_net_fatal ("cannot isolate itself (pivot_root): %s", sbx_util_strerror (errno));
}

#ifdef __SANITIZE_ADDRESS__
/* Sanitizer builds only (CI): LeakSanitizer's check at exit reads /proc and
 * ptrace()s the process, neither of which an isolated sbx-net has. */
int __lsan_is_turned_off (void);
int
__lsan_is_turned_off (void)
{
  return 1;
}
#endif

/* The system calls the loop needs; everything else fails with EPERM. */
static void
isolate_syscalls (void)
{
  static const char *const allowed[] = {
    "read",
    "write",
    "readv",
    "writev",
    "close",
    "poll",
    "ppoll",
    "recvfrom",
    "sendto",
    "recvmsg",
    "sendmsg",
    "socket",
    "connect",
    "bind",
    "listen",
    "accept",
    "accept4",
    "getsockopt",
    "setsockopt",
    "getsockname",
    "getpeername",
    "shutdown",
    "fcntl",
    "ioctl",
    "pipe2",
    "splice",
    "clock_gettime",
    "gettimeofday",
    "mmap",
    "munmap",
    "mremap",
    "brk",
    "madvise",
    "futex",
    "rt_sigreturn",
    "rt_sigprocmask",
    "exit",
    "exit_group",
    "openat",
    "newfstatat",
    "fstat",
    "statx",
    "lseek",
    "getrandom",
    "getpid",
    "gettid",
    "sched_yield",
    "restart_syscall",
    "clock_nanosleep",
    "nanosleep",
    "uname",
    "prlimit64",
    /* An alternate signal stack is the process's own business; the
     * sanitizers' runtime sets one up in every thread. */
    "sigaltstack",
    NULL,
  };
  scmp_filter_ctx ctx = seccomp_init (SCMP_ACT_ERRNO (EPERM));
  int r = ctx != NULL ? 0 : -ENOMEM;
  for (const char *const *s = allowed; r == 0 && *s != NULL; s++)
    {
      int nr = seccomp_syscall_resolve_name (*s);
      if (nr != __NR_SCMP_ERROR)
        r = seccomp_rule_add (ctx, SCMP_ACT_ALLOW, nr, 0);
    }
  if (r == 0)
    r = seccomp_load (ctx);
  if (ctx != NULL)
    seccomp_release (ctx);
  if (r != 0)
    sbx_net_fatal ("cannot install its seccomp filter: %s", sbx_util_strerror (-r));
}

void
sbx_isolate_self (void)
{
  pid_t parent = getppid ();
  isolate_filesystem ();
  /* Entering the user namespace changed our credentials, which cleared the
   * parent-death signal: set it again, and check the monitor is still
   * there (its pipe on SBX_NET_ALIVE_FD is the second guard). */
  if (prctl (PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) < 0 || getppid () != parent)
    exit (0);
  /* Every capability of the new user namespace goes: it needs none. */
  struct __user_cap_header_struct hdr = { .version = _LINUX_CAPABILITY_VERSION_3 };
  struct __user_cap_data_struct data[2] = { { 0 } };
  if (prctl (PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0
      || syscall (SYS_capset, &hdr, data) < 0)
    sbx_net_fatal ("cannot drop its capabilities: %s", sbx_util_strerror (errno));
  if (prctl (PR_SET_DUMPABLE, 0, 0, 0, 0) < 0 || prctl (PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
    sbx_net_fatal ("cannot harden itself: %s", sbx_util_strerror (errno));
  isolate_syscalls ();
}
