/* SPDX-License-Identifier: GPL-2.0-or-later */
/* fuse.c: fuse-overlayfs, started by the monitor inside the sandbox's user and
 * mount namespaces but outside its PID namespace (see fuse.h for why). */
#include "config.h"

#include "fuse.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <linux/capability.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#ifndef FUSE_SUPER_MAGIC
#define FUSE_SUPER_MAGIC 0x65735546
#endif

struct SbxFuse
{
  pid_t pid;
  int pidfd;
  int err; /* memfd with its stderr */
};

int
sbx_fuse_pidfd (const SbxFuse *fuse)
{
  return fuse->pidfd;
}

/* Opens a host directory for the daemon, inheritable, before the fork. */
static int
open_layer (const char *path, GPtrArray *fds)
{
  int fd = open (path, O_PATH | O_DIRECTORY);
  if (fd >= 0)
    g_ptr_array_add (fds, GINT_TO_POINTER (fd));
  return fd;
}

/* Keeps CAP_SYS_ADMIN across execve() for a non-root uid (ambient): the
 * caps of the new user namespace would be gone otherwise, and
 * fuse-overlayfs would fall back to fusermount3, which refuses allow_other.
 * Raw system calls only: this runs between fork and exec. */
static gboolean
keep_sys_admin (void)
{
  struct __user_cap_header_struct hdr = { .version = _LINUX_CAPABILITY_VERSION_3 };
  struct __user_cap_data_struct data[2];
  if (syscall (SYS_capget, &hdr, data) < 0)
    return FALSE;
  data[CAP_TO_INDEX (CAP_SYS_ADMIN)].inheritable |= CAP_TO_MASK (CAP_SYS_ADMIN);
  return syscall (SYS_capset, &hdr, data) == 0
         && prctl (PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, CAP_SYS_ADMIN, 0, 0) == 0;
}

SbxFuse *
sbx_fuse_spawn (const SbxSpec *spec, int sandbox_pidfd, gboolean root_mapped, GError **error)
{
  g_autoptr (GPtrArray) fds = g_ptr_array_new ();
  g_autoptr (GString) opts = g_string_new ("lowerdir=");
  gboolean ok = TRUE;

  /* Lower layers, highest first, opened here in the host's view: the
   * daemon gets them as /proc/self/fd/N, so no path is parsed again and no
   * ',' or ':' in a name can change the options. */
  for (guint i = spec->layers->len; ok && i > 0; i--)
    {
      int fd = open_layer (spec->layers->pdata[i - 1], fds);
      ok = fd >= 0;
      g_string_append_printf (opts, "/proc/self/fd/%d:", fd);
    }
  int base = ok ? open_layer (spec->rootfs != NULL ? spec->rootfs : "/", fds) : -1;
  g_string_append_printf (opts, "/proc/self/fd/%d", base);
  if (spec->upper != NULL)
    {
      int upper = open_layer (spec->upper, fds);
      g_autofree char *work_path = g_build_filename (spec->upper_work, "fuse", NULL);
      int work = open_layer (work_path, fds);
      ok = ok && upper >= 0 && work >= 0;
      g_string_append_printf (opts, ",upperdir=/proc/self/fd/%d,workdir=/proc/self/fd/%d", upper,
                              work);
    }
  else
    /* The throwaway layer, a tmpfs in the sandbox's mount namespace. */
    g_string_append (opts, ",upperdir=" SBX_STAGING_LAYER "/upper,workdir=" SBX_STAGING_LAYER
                           "/work/fuse");
  /* allow_other: the sandbox's other users (apt's _apt, daemons) reach the
   * mount too; the daemon checks permissions itself.  squash_to_root:
   * --map-root sees the host's root-owned files as its own, so an install
   * into /usr works; what the caller cannot read on the host stays
   * unreadable, because the daemon works with the caller's rights there. */
  g_string_append (opts, ",allow_other");
  if (spec->identity == SBX_ID_ROOT)
    g_string_append (opts, ",squash_to_root");

  int err = memfd_create ("fuse-overlayfs-stderr", MFD_CLOEXEC);
  if (!ok || base < 0 || err < 0)
    {
      g_set_error (error, G_FILE_ERROR, g_file_error_from_errno (errno),
                   "cannot open the layers for fuse-overlayfs: %s", g_strerror (errno));
      for (guint i = 0; i < fds->len; i++)
        close (GPOINTER_TO_INT (fds->pdata[i]));
      if (err >= 0)
        close (err);
      return NULL;
    }

  const char *argv[] = { "fuse-overlayfs", "-f", "-o", opts->str, SBX_STAGING_FUSE, NULL };
  pid_t monitor = getpid ();
  int pidfd = -1;
  /* The monitor may have threads by now (GDBus): until execve() the child
   * makes only system calls, no allocation. */
  pid_t pid = sbx_util_clone3 (0, &pidfd);
  if (pid == 0)
    {
      if (setns (sandbox_pidfd, CLONE_NEWUSER | CLONE_NEWNS) < 0)
        _exit (126);
      if (root_mapped ? setresgid (0, 0, 0) < 0 || setresuid (0, 0, 0) < 0 : !keep_sys_admin ())
        _exit (126);
      /* After the credential change of setns(): it would have cleared it. */
      if (prctl (PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) < 0 || getppid () != monitor)
        _exit (126);
      dup2 (err, STDERR_FILENO);
      execv (spec->fuse_overlayfs, (char **)argv);
      _exit (127);
    }
  int errsv = errno;
  for (guint i = 0; i < fds->len; i++)
    close (GPOINTER_TO_INT (fds->pdata[i]));
  if (pid < 0)
    {
      close (err);
      g_set_error (error, G_FILE_ERROR, g_file_error_from_errno (errsv),
                   "cannot start fuse-overlayfs: %s", g_strerror (errsv));
      return NULL;
    }
  SbxFuse *fuse = g_new0 (SbxFuse, 1);
  fuse->pid = pid;
  fuse->pidfd = pidfd;
  fuse->err = err;
  return fuse;
}

char *
sbx_fuse_failure (SbxFuse *fuse)
{
  siginfo_t info = { 0 };
  char buf[1024] = "";

  waitid (P_PIDFD, (id_t)fuse->pidfd, &info, WEXITED | WNOHANG);
  ssize_t n = pread (fuse->err, buf, sizeof buf - 1, 0);
  buf[n > 0 ? n : 0] = '\0';
  /* Its one harmless complaint about a mount option it does not know. */
  g_auto (GStrv) lines = g_strsplit (buf, "\n", -1);
  g_autoptr (GString) text = g_string_new (NULL);
  for (char **l = lines; *l; l++)
    if (**l && !g_str_has_prefix (*l, "unknown argument ignored"))
      g_string_append_printf (text, "%s%s", text->len ? "; " : "", *l);
  if (info.si_code == CLD_EXITED && info.si_status == 126)
    return g_strdup ("fuse-overlayfs: cannot enter the sandbox's namespaces");
  return g_strdup_printf ("fuse-overlayfs failed%s%s", text->len ? ": " : "",
                          text->len ? text->str : "");
}

void
sbx_fuse_stop (SbxFuse *fuse)
{
  if (fuse == NULL)
    return;
  /* SIGTERM lets it unmount; the namespace is usually gone already. */
  sbx_util_pidfd_send_signal (fuse->pidfd, SIGTERM);
  struct pollfd p = { .fd = fuse->pidfd, .events = POLLIN };
  if (poll (&p, 1, 1000) <= 0)
    sbx_util_pidfd_send_signal (fuse->pidfd, SIGKILL);
  while (waitpid (fuse->pid, NULL, 0) < 0 && errno == EINTR)
    ;
  close (fuse->pidfd);
  close (fuse->err);
  g_free (fuse);
}

static gboolean
fuse_mounted (void)
{
  struct statfs sf;
  return statfs (SBX_STAGING_FUSE, &sf) == 0 && sf.f_type == FUSE_SUPER_MAGIC;
}

void
sbx_fuse_request (int sync_fd)
{
  if (!sbx_msg_send (sync_fd, SBX_MSG_FUSE_START, 0, 0, NULL, -1))
    _exit (SBX_EXIT_FAILURE);
  /* Wait for the mount to show up here, or for the monitor to report that
   * the daemon gave up; 30 s at most. */
  for (int waited = 0; !fuse_mounted (); waited += 2)
    {
      struct pollfd p = { .fd = sync_fd, .events = POLLIN };
      if (waited > 30000)
        sbx_die ("fuse-overlayfs did not mount within 30 s");
      if (poll (&p, 1, 2) > 0)
        {
          SbxMsg msg;
          if (!sbx_msg_recv (sync_fd, &msg, NULL, NULL))
            _exit (SBX_EXIT_FAILURE);
          if (msg.type == SBX_MSG_FUSE_FAILED)
            sbx_die ("%s", msg.text);
        }
    }
}
