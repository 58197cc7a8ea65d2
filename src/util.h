/* SPDX-License-Identifier: GPL-2.0-or-later */
/* util.h: errors, cleanup attributes, small I/O helpers and fd passing. */
#pragma once

#include <glib.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <sys/types.h>
#include <unistd.h>

/* Exit statuses of the contract (DESIGN.md). */
#define SBX_EXIT_FAILURE     125 /* sbx itself failed */
#define SBX_EXIT_CANNOT_EXEC 126 /* the command exists but cannot be executed */
#define SBX_EXIT_NOT_FOUND   127 /* the command was not found */

/* Built with AddressSanitizer, which cannot follow a second process in the
 * same memory (CLONE_VM): sbx forks instead there. */
#if defined(__SANITIZE_ADDRESS__)
#define SBX_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SBX_ASAN 1
#endif
#endif

#define SBX_NORETURN     __attribute__ ((noreturn))
#define SBX_PRINTF(a, b) __attribute__ ((format (printf, a, b)))

/* Report and exit 125 (or @code).  In the sandbox child the message goes over
 * the error channel to the monitor instead of to stderr, so that the user
 * sees the precise reason (STYLE.md point 7). */
void sbx_die (const char *fmt, ...) SBX_PRINTF (1, 2) SBX_NORETURN;
void sbx_die_errno (const char *fmt, ...) SBX_PRINTF (1, 2) SBX_NORETURN;
void sbx_die_code (int code, const char *fmt, ...) SBX_PRINTF (2, 3) SBX_NORETURN;
void sbx_warn (const char *fmt, ...) SBX_PRINTF (1, 2);
/* A line of --verbose output ("sbx: ..."), through the monitor in the child. */
void sbx_info (const char *fmt, ...) SBX_PRINTF (1, 2);

/* @hook runs before sbx_die*() prints in this process (not in the sandbox
 * child, whose errors go to the monitor): the pty proxy restores the
 * caller's terminal there.  NULL removes it. */
void sbx_util_set_exit_hook (void (*hook) (void));

/* Route sbx_die*() through @fd (a SOCK_SEQPACKET to the monitor); -1 resets. */
void sbx_util_set_error_channel (int fd);

/* sbx_die*() then leave with _exit(): for a child of sbx that prints its
 * errors itself (no atexit handler or stdio buffer of the parent's runs). */
void sbx_util_die_with_exit (void);

/* The English description of @errnum (strerrordesc_np), for every message
 * sbx prints.  Never translated and never converted to another charset:
 * it reads no message catalog and loads no charset module, whichever mount
 * namespace the caller is in.  A sandbox's tree is hostile, and glibc finds
 * catalogs (libc.mo) and converters (gconv) by path there
 * (docs/security.md). */
const char *sbx_util_strerror (int errnum);

/* A wait status as an exit code, as a shell gives it: the exit status, or
 * 128+N for death by signal N (SBX_EXIT_FAILURE for anything else). */
int sbx_util_exit_code (int status);

/* sbx_util_remove_tree() without a report, in system calls alone (no
 * allocation, no lock): for a process cloned from a threaded one (the
 * monitor after GDBus started), which may call nothing else. */
gboolean sbx_util_remove_tree_raw (const char *path);

/* After execvp (@command) failed with ENOENT: whether the file it ran is a
 * script whose #! interpreter is missing (the kernel says ENOENT for both),
 * looking for @command as execvp() does ($PATH when it has no '/').  The
 * interpreter goes into @buf, its non-printable bytes as '?'.  Allocates
 * nothing and calls only system calls: it runs in the command's process,
 * which shares PID 1's memory until execve(). */
gboolean sbx_util_missing_interpreter (const char *command, char *buf, size_t size);

/* Closes every fd above 2 but the @n_keep in @keep. */
void sbx_util_close_fds_except (const int *keep, guint n_keep);

/* Marks every fd from @lowfd up close-on-exec: what the caller left open
 * must not reach a program sbx starts. */
void sbx_util_cloexec_from (int lowfd);

/* Whether the directory @fd is ours alone: owned by our uid (as the
 * current user namespace sees it), writable by nobody else. */
gboolean sbx_util_dir_is_private (int fd);

/* Removes the directory @path and everything below it, each entry relative
 * to its directory's fd: no symlink is followed, and a directory swapped
 * for a symlink meanwhile leads nowhere (a kept layer is hostile input).
 * With @report, prints "sbx: cannot remove PATH: why" for each entry left.
 * TRUE when nothing is left. */
gboolean sbx_util_remove_tree (const char *path, gboolean report);

/* The same for the entry @name of the directory @parentfd (any type; a
 * symlink is removed, never followed); @path names it in messages. */
gboolean sbx_util_remove_tree_at (int parentfd, const char *name, const char *path,
                                  gboolean report);

/* openat2(2) of @path ("" or "." for @dirfd itself) with @flags (which
 * name O_CLOEXEC) and the RESOLVE_* flags @resolve. */
int sbx_util_openat2 (int dirfd, const char *path, int flags, guint64 resolve);

/* A fd closed when it goes out of scope. */
void sbx_util_close_fdp (int *fdp);
#define cleanup_fd __attribute__ ((cleanup (sbx_util_close_fdp)))

/* Hand an fd out of a cleanup_fd variable. */
static inline int
sbx_steal_fd (int *fdp)
{
  int fd = *fdp;
  *fdp = -1;
  return fd;
}

/* write()/read() the whole buffer, retrying on EINTR and short writes. */
gboolean sbx_util_write_all (int fd, const void *buf, size_t len);
gboolean sbx_util_read_all (int fd, void *buf, size_t len); /* FALSE at an early EOF too */
/* Copies @size bytes from @src to @dst, from their offsets (copy_file_range,
 * sendfile between filesystems that refuse it); FALSE at an early EOF too. */
gboolean sbx_util_copy_data (int src, int dst, off_t size);
/* Write @content to an existing file such as /proc/PID/uid_map (no O_CREAT). */
gboolean sbx_util_write_file_at (int dirfd, const char *path, const char *content);

/* Strict unsigned parsing: decimal digits only, no sign, no junk, no overflow
 * past @max.  Returns FALSE on any of those. */
gboolean sbx_util_parse_u64 (const char *text, guint64 max, guint64 *out);

/* A port number: 1..65535, digits only. */
gboolean sbx_util_parse_port (const char *text, guint16 *out);

/* A size such as 512, 64K, 1.5M, 2G, 1T (binary multiples). FALSE on junk,
 * negatives, an empty string or overflow; zero is accepted (callers decide). */
gboolean sbx_util_parse_size (const char *text, guint64 *out);

/* Messages between the monitor and the sandbox on the sync socket.  The socket
 * is SOCK_SEQPACKET, so each message arrives whole or not at all. */
typedef enum
{
  SBX_MSG_GO = 1,         /* monitor -> child: ids mapped (and scope joined); go on */
  SBX_MSG_ERROR,          /* child -> monitor: setup or exec failed; code + text */
  SBX_MSG_WARNING,        /* child -> monitor: a warning line to print */
  SBX_MSG_INFO,           /* child -> monitor: a --verbose line to print */
  SBX_MSG_TAP_FD,         /* child -> monitor: the tap0 fd (SCM_RIGHTS) */
  SBX_MSG_NET_READY,      /* monitor -> child: the network helper runs */
  SBX_MSG_STARTED,        /* child -> monitor: the command was forked; value = its pid */
  SBX_MSG_EXIT,           /* child -> monitor: the command's wait status */
  SBX_MSG_FUSE_START,     /* child -> monitor: start fuse-overlayfs in my namespaces */
  SBX_MSG_FUSE_FAILED,    /* monitor -> child: it failed; text says why */
  SBX_MSG_NET_WAIT,       /* child -> monitor: about to start the command; is sbx-net up? */
  SBX_MSG_SOCKET_REQUEST, /* sbx-net -> PID 1: a socket of family @value, type @code */
  SBX_MSG_SOCKET,         /* PID 1 -> sbx-net: here it is (SCM_RIGHTS), or code = errno */
  SBX_MSG_NAMESPACES, /* child -> monitor: the sandbox's namespaces (sbx_state_read_namespaces) */
  SBX_MSG_PTY,        /* child -> monitor: the master of the command's pty (SCM_RIGHTS) */
} SbxMsgType;

#define SBX_MSG_TEXT_MAX 2048

typedef struct
{
  guint32 type;
  gint32 code;  /* exit code for ERROR */
  gint64 value; /* pid, wait status, flags */
  char text[SBX_MSG_TEXT_MAX];
} SbxMsg;

/* Send @msg (text may be NULL) and optionally one fd with SCM_RIGHTS. */
gboolean sbx_msg_send (int sock, SbxMsgType type, gint32 code, gint64 value, const char *text,
                       int fd_to_pass);
/* Send @msg with SCM_CREDENTIALS naming @pid (the caller's own, or any pid
 * of its PID namespace when it has CAP_SYS_ADMIN there): the kernel
 * translates it into the receiver's PID namespace. */
gboolean sbx_msg_send_for_pid (int sock, SbxMsgType type, gint64 value, pid_t pid);
/* Receive one message; *fd_out (when given) gets a passed fd or -1, and
 * *pid_out (when given) the pid of SCM_CREDENTIALS or 0 (the receiving
 * socket needs SO_PASSCRED).  Returns FALSE on EOF or error (errno set; 0 on
 * EOF). */
gboolean sbx_msg_recv (int sock, SbxMsg *msg, int *fd_out, pid_t *pid_out);

/* The fields of a /proc/PID/stat text after the command name (field 2,
 * which may hold spaces and parentheses: it ends at the last ')'), so that
 * [0] is field 3, the state, and [19] field 22, the start time; NULL when
 * the text is not one. */
GStrv sbx_util_stat_fields (const char *stat);

/* "exit status N", "killed by SIGSEGV" or "still running" for a waitid()
 * result. */
char *sbx_util_describe_exit (const siginfo_t *info);

/* The raw clone3() wrapper: fork-like, returns 0 in the child. */
pid_t sbx_util_clone3 (guint64 flags, int *pidfd_out);
int sbx_util_pidfd_send_signal (int pidfd, int sig);
