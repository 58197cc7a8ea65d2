/* SPDX-License-Identifier: GPL-2.0-or-later */
/* util.c: errors, cleanup attributes, small I/O helpers and fd passing. */
#include "config.h"

#include "util.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <linux/close_range.h>
#include <linux/openat2.h>
#include <sys/syscall.h>

/* Where sbx_die() sends its message: -1 means stderr.  This is process state,
 * not an option: the sandbox child sets it once it owns the sync socket. */
static int error_channel = -1;
static gboolean child_process;
/* Run before sbx_die() prints: the pty proxy gives the caller's terminal
 * its modes back, so that the message reads as a line and the shell after
 * us gets a sane terminal (the monitor's exit() runs atexit handlers too,
 * the `sbx exec` parent's _exit() does not). */
static void (*exit_hook) (void);

void
sbx_util_set_exit_hook (void (*hook) (void))
{
  exit_hook = hook;
}

void
sbx_util_set_error_channel (int fd)
{
  error_channel = fd;
}

void
sbx_util_die_with_exit (void)
{
  child_process = TRUE;
}

static SBX_NORETURN void
die_with (int code, int errsv, const char *fmt, va_list ap)
{
  char text[SBX_MSG_TEXT_MAX];
  int n = vsnprintf (text, sizeof text, fmt, ap);

  if (errsv != 0 && n >= 0 && (size_t)n < sizeof text)
    snprintf (text + n, sizeof text - n, ": %s", sbx_util_strerror (errsv));

  if (error_channel >= 0 && sbx_msg_send (error_channel, SBX_MSG_ERROR, code, 0, text, -1))
    _exit (code);

  if (exit_hook != NULL && error_channel < 0)
    exit_hook ();
  fprintf (stderr, "sbx: %s\n", text);
  /* A child of the monitor must not run atexit handlers or flush stdio
   * buffers it inherited; the monitor itself exits normally. */
  if (error_channel >= 0 || child_process)
    _exit (code);
  exit (code);
}

void
sbx_die (const char *fmt, ...)
{
  va_list ap;
  va_start (ap, fmt);
  die_with (SBX_EXIT_FAILURE, 0, fmt, ap);
}

void
sbx_die_errno (const char *fmt, ...)
{
  int errsv = errno;
  va_list ap;
  va_start (ap, fmt);
  die_with (SBX_EXIT_FAILURE, errsv, fmt, ap);
}

void
sbx_die_code (int code, const char *fmt, ...)
{
  va_list ap;
  va_start (ap, fmt);
  die_with (code, 0, fmt, ap);
}

void
sbx_warn (const char *fmt, ...)
{
  char text[SBX_MSG_TEXT_MAX];
  va_list ap;

  va_start (ap, fmt);
  vsnprintf (text, sizeof text, fmt, ap);
  va_end (ap);
  if (error_channel >= 0 && sbx_msg_send (error_channel, SBX_MSG_WARNING, 0, 0, text, -1))
    return;
  fprintf (stderr, "sbx: warning: %s\n", text);
}

void
sbx_info (const char *fmt, ...)
{
  char text[SBX_MSG_TEXT_MAX];
  va_list ap;

  va_start (ap, fmt);
  vsnprintf (text, sizeof text, fmt, ap);
  va_end (ap);
  if (error_channel >= 0 && sbx_msg_send (error_channel, SBX_MSG_INFO, 0, 0, text, -1))
    return;
  fprintf (stderr, "sbx: %s\n", text);
}

const char *
sbx_util_strerror (int errnum)
{
  /* strerror() would look the text up in the catalog of LC_MESSAGES, and
   * g_strerror() converts it from the locale's charset, both by path. */
  const char *text = strerrordesc_np (errnum);
  return text != NULL ? text : "Unknown error";
}

static int
compare_ints (gconstpointer a, gconstpointer b)
{
  int x = *(const int *)a, y = *(const int *)b;
  return (x > y) - (x < y);
}

void
sbx_util_close_fds_except (const int *keep, guint n_keep)
{
  int sorted[16];
  guint n = 0;

  g_assert (n_keep <= G_N_ELEMENTS (sorted));
  for (guint i = 0; i < n_keep; i++)
    if (keep[i] > 2)
      sorted[n++] = keep[i];
  qsort (sorted, n, sizeof *sorted, compare_ints);
  /* close_range() over every gap between the kept ones. */
  unsigned int from = 3;
  for (guint i = 0; i < n; i++)
    {
      if ((unsigned int)sorted[i] > from)
        syscall (SYS_close_range, from, (unsigned int)sorted[i] - 1, 0);
      from = (unsigned int)sorted[i] + 1;
    }
  syscall (SYS_close_range, from, ~0U, 0);
}

void
sbx_util_cloexec_from (int lowfd)
{
  syscall (SYS_close_range, (unsigned int)lowfd, ~0U, CLOSE_RANGE_CLOEXEC);
}

gboolean
sbx_util_dir_is_private (int fd)
{
  struct stat st;
  return fstat (fd, &st) == 0 && S_ISDIR (st.st_mode) && st.st_uid == getuid ()
         && (st.st_mode & 022) == 0;
}

/* Deeper than this, a tree is left (and reported): each level holds an fd. */
#define REMOVE_MAX_DEPTH 256

static guint remove_below (int dirfd, const char *path, gboolean report, guint depth);

static void
remove_failed (const char *path, const char *name, gboolean report, int errsv)
{
  if (report)
    fprintf (stderr, "sbx: cannot remove %s/%s: %s\n", path, name, sbx_util_strerror (errsv));
}

/* Opens the subdirectory @name of @dirfd to empty it: an overlay's work
 * directories have mode 0, so they are opened to us first when ours. */
static int
open_subdir (int dirfd, const char *name)
{
  int fd = openat (dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0 && errno == EACCES && fchmodat (dirfd, name, 0700, 0) == 0)
    fd = openat (dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  return fd;
}

/* Removes the entries of @dirfd (and closes it); returns how many failed. */
static guint
remove_below (int dirfd, const char *path, gboolean report, guint depth)
{
  DIR *d = fdopendir (dirfd);
  struct dirent *e;
  guint failed = 0;

  if (d == NULL)
    {
      close (dirfd);
      return 1;
    }
  while ((e = readdir (d)) != NULL)
    {
      const char *name = e->d_name;
      struct stat st;
      if (strcmp (name, ".") == 0 || strcmp (name, "..") == 0
          || fstatat (dirfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
        continue;
      if (S_ISDIR (st.st_mode))
        {
          g_autofree char *sub_path = g_build_filename (path, name, NULL);
          int sub = depth < REMOVE_MAX_DEPTH ? open_subdir (dirfd, name) : -1;
          if (sub < 0 && depth >= REMOVE_MAX_DEPTH)
            errno = ELOOP;
          int errsv = errno;
          guint below = sub >= 0 ? remove_below (sub, sub_path, report, depth + 1) : 0;
          failed += below;
          if (sub < 0)
            {
              remove_failed (path, name, report, errsv);
              failed++;
            }
          else if (below == 0 && unlinkat (dirfd, name, AT_REMOVEDIR) < 0)
            {
              remove_failed (path, name, report, errno);
              failed++;
            }
        }
      else if (unlinkat (dirfd, name, 0) < 0)
        {
          remove_failed (path, name, report, errno);
          failed++;
        }
    }
  closedir (d);
  return failed;
}

/* The entries of @dirfd removed with system calls alone (getdents64 into a
 * buffer on the stack): no allocation, no lock, for a process forked from
 * a threaded one.  Returns how many failed. */
static guint
remove_below_raw (int dirfd, guint depth)
{
  char buf[4096] __attribute__ ((aligned (8)));
  guint failed = 0;
  gboolean removed;
  /* Reading on while entries go may skip some: read again from the start
   * until a pass removes nothing. */
  do
    {
      removed = FALSE;
      failed = 0;
      if (lseek (dirfd, 0, SEEK_SET) < 0)
        return 1;
      long n;
      while ((n = syscall (SYS_getdents64, dirfd, buf, sizeof buf)) > 0)
        for (long off = 0; off < n;)
          {
            struct
            {
              guint64 ino;
              gint64 off;
              unsigned short reclen;
              unsigned char type;
              char name[];
            } *e = (void *)(buf + off);
            off += e->reclen;
            if (strcmp (e->name, ".") == 0 || strcmp (e->name, "..") == 0)
              continue;
            if (unlinkat (dirfd, e->name, 0) == 0)
              {
                removed = TRUE;
                continue;
              }
            int sub = depth < REMOVE_MAX_DEPTH ? open_subdir (dirfd, e->name) : -1;
            if (sub < 0)
              {
                failed++;
                continue;
              }
            guint below = remove_below_raw (sub, depth + 1);
            close (sub);
            if (below == 0 && unlinkat (dirfd, e->name, AT_REMOVEDIR) == 0)
              removed = TRUE;
            else
              failed++;
          }
      if (n < 0)
        return failed + 1;
    }
  while (removed);
  return failed;
}

gboolean
sbx_util_remove_tree_raw (const char *path)
{
  int fd = open (path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0)
    return errno == ENOENT;
  guint failed = remove_below_raw (fd, 0);
  close (fd);
  return failed == 0 && (rmdir (path) == 0 || errno == ENOENT);
}

/* Whether @path is a script whose #! interpreter is missing (into @buf). */
static gboolean
script_interpreter_missing (const char *path, char *buf, size_t size)
{
  char head[256];
  struct stat st;
  int fd = open (path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
  if (fd < 0)
    return FALSE;
  ssize_t n = fstat (fd, &st) == 0 && S_ISREG (st.st_mode) ? read (fd, head, sizeof head - 1) : -1;
  close (fd);
  if (n < 3 || head[0] != '#' || head[1] != '!')
    return FALSE;
  head[n] = '\0';
  char *interp = head + 2 + strspn (head + 2, " \t");
  interp[strcspn (interp, " \t\r\n")] = '\0';
  /* Present: something else failed (its own interpreter, a library). */
  if (interp[0] == '\0' || access (interp, F_OK) == 0 || size == 0)
    return FALSE;
  size_t i;
  for (i = 0; interp[i] != '\0' && i + 1 < size; i++)
    buf[i] = g_ascii_isprint (interp[i]) ? interp[i] : '?';
  buf[i] = '\0';
  return TRUE;
}

gboolean
sbx_util_missing_interpreter (const char *command, char *buf, size_t size)
{
  char path[PATH_MAX];
  if (strchr (command, '/') != NULL)
    return script_interpreter_missing (command, buf, size);
  /* execvp()'s search: each $PATH entry in turn, "" being the cwd. */
  const char *p = getenv ("PATH");
  if (p == NULL)
    p = "/bin:/usr/bin";
  size_t len = strlen (command);
  for (;;)
    {
      const char *end = strchrnul (p, ':');
      size_t dir = (size_t)(end - p);
      if (dir + 1 + len < sizeof path)
        {
          memcpy (path, dir > 0 ? p : ".", dir > 0 ? dir : 1);
          size_t at = dir > 0 ? dir : 1;
          path[at] = '/';
          memcpy (path + at + 1, command, len + 1);
          if (script_interpreter_missing (path, buf, size))
            return TRUE;
        }
      if (*end == '\0')
        return FALSE;
      p = end + 1;
    }
}

/* Removes the directory @name of @parentfd (@path), just opened as @fd (or
 * -1 with errno): its entries, then itself. */
static gboolean
remove_opened_dir (int fd, int parentfd, const char *name, const char *path, gboolean report)
{
  if (fd < 0)
    {
      if (report)
        fprintf (stderr, "sbx: cannot remove %s: %s\n", path, sbx_util_strerror (errno));
      return FALSE;
    }
  if (remove_below (fd, path, report, 0) > 0)
    return FALSE;
  if (unlinkat (parentfd, name, AT_REMOVEDIR) < 0 && errno != ENOENT)
    {
      if (report)
        fprintf (stderr, "sbx: cannot remove %s: %s\n", path, sbx_util_strerror (errno));
      return FALSE;
    }
  return TRUE;
}

gboolean
sbx_util_remove_tree (const char *path, gboolean report)
{
  int fd = open (path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0 && errno == ENOENT)
    return TRUE;
  return remove_opened_dir (fd, AT_FDCWD, path, path, report);
}

int
sbx_util_openat2 (int dirfd, const char *path, int flags, guint64 resolve)
{
  struct open_how how = { .flags = (guint64)flags, .resolve = resolve };
  return (int)syscall (SYS_openat2, dirfd, path[0] != '\0' ? path : ".", &how, sizeof how);
}

gboolean
sbx_util_remove_tree_at (int parentfd, const char *name, const char *path, gboolean report)
{
  struct stat st;
  if (fstatat (parentfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
    return errno == ENOENT;
  if (!S_ISDIR (st.st_mode))
    return unlinkat (parentfd, name, 0) == 0 || errno == ENOENT;
  return remove_opened_dir (open_subdir (parentfd, name), parentfd, name, path, report);
}

void
sbx_util_close_fdp (int *fdp)
{
  int errsv = errno;
  if (*fdp >= 0)
    close (*fdp);
  *fdp = -1;
  errno = errsv;
}

gboolean
sbx_util_read_all (int fd, void *buf, size_t len)
{
  char *p = buf;

  while (len > 0)
    {
      ssize_t n = read (fd, p, len);
      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0)
        return FALSE;
      p += n;
      len -= (size_t)n;
    }
  return TRUE;
}

gboolean
sbx_util_copy_data (int src, int dst, off_t size)
{
  for (off_t left = size; left > 0;)
    {
      /* Between filesystems of different types (the host's ext4, a tmpfs)
       * copy_file_range fails with EXDEV. */
      ssize_t n = copy_file_range (src, NULL, dst, NULL, (size_t)left, 0);
      if (n < 0 && (errno == EXDEV || errno == EOPNOTSUPP || errno == ENOSYS || errno == EINVAL))
        n = sendfile (dst, src, NULL, (size_t)left);
      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0)
        return FALSE;
      left -= n;
    }
  return TRUE;
}

gboolean
sbx_util_write_all (int fd, const void *buf, size_t len)
{
  const char *p = buf;

  while (len > 0)
    {
      ssize_t n = write (fd, p, len);
      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0)
        return FALSE;
      p += n;
      len -= (size_t)n;
    }
  return TRUE;
}

gboolean
sbx_util_write_file_at (int dirfd, const char *path, const char *content)
{
  cleanup_fd int fd = openat (dirfd, path, O_WRONLY | O_CLOEXEC | O_NOCTTY);
  if (fd < 0)
    return FALSE;
  /* id maps and similar /proc files must be written in one write(). */
  size_t len = strlen (content);
  ssize_t n;
  do
    n = write (fd, content, len);
  while (n < 0 && errno == EINTR);
  return n == (ssize_t)len;
}

gboolean
sbx_util_parse_u64 (const char *text, guint64 max, guint64 *out)
{
  guint64 v = 0;

  if (text == NULL || *text == '\0')
    return FALSE;
  for (const char *p = text; *p; p++)
    {
      if (*p < '0' || *p > '9')
        return FALSE;
      guint d = (guint)(*p - '0');
      if (v > (max - d) / 10)
        return FALSE;
      v = v * 10 + d;
    }
  *out = v;
  return TRUE;
}

gboolean
sbx_util_parse_port (const char *text, guint16 *out)
{
  guint64 v;
  if (!sbx_util_parse_u64 (text, 65535, &v) || v == 0)
    return FALSE;
  *out = (guint16)v;
  return TRUE;
}

gboolean
sbx_util_parse_size (const char *text, guint64 *out)
{
  guint64 whole = 0, frac = 0, frac_div = 1, mult = 1;
  const char *p = text;

  if (text == NULL || *p < '0' || *p > '9')
    return FALSE;
  for (; *p >= '0' && *p <= '9'; p++)
    {
      guint d = (guint)(*p - '0');
      if (whole > (G_MAXUINT64 - d) / 10)
        return FALSE;
      whole = whole * 10 + d;
    }
  if (*p == '.')
    {
      p++;
      if (*p < '0' || *p > '9')
        return FALSE;
      for (; *p >= '0' && *p <= '9'; p++)
        if (frac_div < 1000000000)
          {
            frac = frac * 10 + (guint64)(*p - '0');
            frac_div *= 10;
          }
    }
  switch (g_ascii_toupper (*p))
    {
    case '\0':
      break;
    case 'K':
      mult = G_GUINT64_CONSTANT (1) << 10;
      break;
    case 'M':
      mult = G_GUINT64_CONSTANT (1) << 20;
      break;
    case 'G':
      mult = G_GUINT64_CONSTANT (1) << 30;
      break;
    case 'T':
      mult = G_GUINT64_CONSTANT (1) << 40;
      break;
    default:
      return FALSE;
    }
  if (*p != '\0')
    {
      p++;
      /* Accept the common "512MB" / "1GiB" spellings too. */
      if (g_ascii_strcasecmp (p, "B") == 0 || g_ascii_strcasecmp (p, "iB") == 0)
        p += strlen (p);
    }
  if (*p != '\0')
    return FALSE;
  if (frac_div > 1 && mult == 1)
    return FALSE; /* "1.5" bytes makes no sense */
  if (whole > G_MAXUINT64 / mult)
    return FALSE;
  guint64 v = whole * mult;
  guint64 extra = frac * (mult / frac_div) + (frac * (mult % frac_div)) / frac_div;
  if (v > G_MAXUINT64 - extra)
    return FALSE;
  *out = v + extra;
  return TRUE;
}

/* Sends a message with at most one control message: an fd or credentials. */
static gboolean
msg_send (int sock, const SbxMsg *msg, size_t len, int fd_to_pass, const struct ucred *creds)
{
  struct iovec iov = { .iov_base = (void *)msg, .iov_len = len };
  union
  {
    char buf[CMSG_SPACE (sizeof (struct ucred))];
    struct cmsghdr align;
  } control;
  struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };

  memset (&control, 0, sizeof control);
  if (fd_to_pass >= 0 || creds != NULL)
    {
      size_t payload = creds != NULL ? sizeof *creds : sizeof (int);
      mh.msg_control = control.buf;
      mh.msg_controllen = CMSG_SPACE (payload);
      struct cmsghdr *cmsg = CMSG_FIRSTHDR (&mh);
      cmsg->cmsg_level = SOL_SOCKET;
      cmsg->cmsg_type = creds != NULL ? SCM_CREDENTIALS : SCM_RIGHTS;
      cmsg->cmsg_len = CMSG_LEN (payload);
      if (creds != NULL)
        memcpy (CMSG_DATA (cmsg), creds, sizeof *creds);
      else
        memcpy (CMSG_DATA (cmsg), &fd_to_pass, sizeof (int));
    }

  ssize_t n;
  do
    n = sendmsg (sock, &mh, MSG_NOSIGNAL);
  while (n < 0 && errno == EINTR);
  return n == (ssize_t)len;
}

static size_t
msg_fill (SbxMsg *msg, SbxMsgType type, gint32 code, gint64 value, const char *text)
{
  size_t text_len = 0;

  memset (msg, 0, offsetof (SbxMsg, text));
  msg->type = type;
  msg->code = code;
  msg->value = value;
  msg->text[0] = '\0';
  if (text != NULL)
    {
      text_len = g_strlcpy (msg->text, text, sizeof msg->text);
      if (text_len >= sizeof msg->text)
        text_len = sizeof msg->text - 1;
    }
  return offsetof (SbxMsg, text) + text_len + 1;
}

gboolean
sbx_msg_send (int sock, SbxMsgType type, gint32 code, gint64 value, const char *text,
              int fd_to_pass)
{
  SbxMsg msg;
  size_t len = msg_fill (&msg, type, code, value, text);
  return msg_send (sock, &msg, len, fd_to_pass, NULL);
}

gboolean
sbx_msg_send_for_pid (int sock, SbxMsgType type, gint64 value, pid_t pid)
{
  SbxMsg msg;
  size_t len = msg_fill (&msg, type, 0, value, NULL);
  struct ucred creds = { .pid = pid, .uid = getuid (), .gid = getgid () };
  return msg_send (sock, &msg, len, -1, &creds);
}

gboolean
sbx_msg_recv (int sock, SbxMsg *msg, int *fd_out, pid_t *pid_out)
{
  union
  {
    char buf[CMSG_SPACE (sizeof (int)) + CMSG_SPACE (sizeof (struct ucred))];
    struct cmsghdr align;
  } control;
  struct iovec iov = { .iov_base = msg, .iov_len = sizeof *msg };
  struct msghdr mh = { .msg_iov = &iov,
                       .msg_iovlen = 1,
                       .msg_control = control.buf,
                       .msg_controllen = sizeof control.buf };
  ssize_t n;

  if (fd_out != NULL)
    *fd_out = -1;
  if (pid_out != NULL)
    *pid_out = 0;
  do
    n = recvmsg (sock, &mh, MSG_CMSG_CLOEXEC);
  while (n < 0 && errno == EINTR);
  if (n == 0)
    errno = 0;
  /* Too short to be a message: still, nothing it carried stays open. */
  gboolean whole = n >= (ssize_t)offsetof (SbxMsg, text);
  if (!whole)
    {
      fd_out = NULL;
      pid_out = NULL;
    }
  else if (n < (ssize_t)sizeof *msg)
    ((char *)msg)[n] = '\0';
  msg->text[sizeof msg->text - 1] = '\0';

  for (struct cmsghdr *c = CMSG_FIRSTHDR (&mh); n > 0 && c != NULL; c = CMSG_NXTHDR (&mh, c))
    if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS)
      {
        int fd;
        memcpy (&fd, CMSG_DATA (c), sizeof fd);
        if (fd_out != NULL && *fd_out < 0)
          *fd_out = fd;
        else
          close (fd); /* never leak an fd we did not ask for */
      }
    else if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_CREDENTIALS && pid_out != NULL)
      {
        struct ucred creds;
        memcpy (&creds, CMSG_DATA (c), sizeof creds);
        *pid_out = creds.pid;
      }
  return whole;
}

GStrv
sbx_util_stat_fields (const char *stat)
{
  const char *p = stat != NULL ? strrchr (stat, ')') : NULL;
  if (p == NULL || p[1] != ' ')
    return NULL;
  return g_strsplit (p + 2, " ", 0);
}

char *
sbx_util_describe_exit (const siginfo_t *info)
{
  if (info->si_pid == 0)
    return g_strdup ("still running");
  if (info->si_code == CLD_EXITED)
    return g_strdup_printf ("exit status %d", info->si_status);
  const char *name = sigabbrev_np (info->si_status);
  return name != NULL ? g_strdup_printf ("killed by SIG%s%s", name,
                                         info->si_code == CLD_DUMPED ? ", core dumped" : "")
                      : g_strdup_printf ("killed by signal %d", info->si_status);
}

pid_t
sbx_util_clone3 (guint64 flags, int *pidfd_out)
{
  int pidfd = -1;
  struct clone_args args = {
    .flags = flags | (pidfd_out != NULL ? CLONE_PIDFD : 0),
    .pidfd = (guint64)(guintptr)&pidfd,
    /* With CLONE_PARENT the child's exit signal is the caller's own. */
    .exit_signal = (flags & CLONE_PARENT) != 0 ? 0 : SIGCHLD,
  };
  pid_t pid = (pid_t)syscall (SYS_clone3, &args, sizeof args);

  if (pid > 0 && pidfd_out != NULL)
    *pidfd_out = pidfd;
  return pid;
}

int
sbx_util_pidfd_send_signal (int pidfd, int sig)
{
  return (int)syscall (SYS_pidfd_send_signal, pidfd, sig, NULL, 0);
}

int
sbx_util_exit_code (int status)
{
  if (WIFEXITED (status))
    return WEXITSTATUS (status);
  if (WIFSIGNALED (status))
    return 128 + WTERMSIG (status);
  return SBX_EXIT_FAILURE;
}
