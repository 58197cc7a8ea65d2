/* SPDX-License-Identifier: GPL-2.0-or-later */
/* fuse.c: fuse-overlayfs, started by the monitor inside the sandbox's user and
 * mount namespaces but outside its PID namespace (see fuse.h for why). */
#include "config.h"

#include "fuse.h"
#include "helper.h"
#include "state.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/statfs.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef FUSE_SUPER_MAGIC
#define FUSE_SUPER_MAGIC 0x65735546
#endif

/* One directory handed to the daemon as /proc/self/fd/N, and how the user
 * named it: its messages are about N, the user must read about the option
 * and the directory. */
typedef struct
{
  int fd;       /* ours, until the daemon runs */
  int target;   /* N: its number in the daemon */
  char *option; /* "--layer", "--rootfs", "--upper", "--name NAME", or NULL (the host's /) */
  char *dir;    /* what the option gave */
  char *path;   /* the directory itself (DIR/upper for --upper DIR) */
} FuseDir;

struct SbxFuse
{
  pid_t pid;
  int pidfd;
  int err;      /* memfd with its stderr */
  GArray *dirs; /* FuseDir */
};

static void
fuse_dir_clear (gpointer data)
{
  FuseDir *d = data;
  g_free (d->option);
  g_free (d->dir);
  g_free (d->path);
}

int
sbx_fuse_pidfd (const SbxFuse *fuse)
{
  return fuse->pidfd;
}

gboolean
sbx_fuse_exiting (const SbxFuse *fuse)
{
  /* Not reaped before sbx_fuse_failure() or sbx_fuse_stop(): the pid is
   * still the daemon's. */
  g_autofree char *path = g_strdup_printf ("/proc/%d/stat", (int)fuse->pid);
  g_autofree char *stat = NULL;
  if (!g_file_get_contents (path, &stat, NULL, NULL))
    return TRUE;
  g_auto (GStrv) fields = sbx_util_stat_fields (stat);
  if (fields == NULL || g_strv_length (fields) < 7)
    return FALSE;
  /* Field 9, the flags. */
  return (g_ascii_strtoull (fields[6], NULL, 10) & 0x4) != 0; /* PF_EXITING */
}

/* The fds of the daemon: 0 /dev/null, 1 and 2 its stderr memfd, then the
 * layer directories. */
#define FIRST_DIR_FD 3

/* Opens a host directory for the daemon and records how the user named it;
 * returns the number it gets in the daemon.  Sets @ok to FALSE (and keeps
 * errno) on failure. */
static int
open_layer (GArray *dirs, const char *option, const char *dir, const char *path, gboolean *ok)
{
  if (!*ok)
    return -1;
  int fd = open (path, O_PATH | O_DIRECTORY | O_CLOEXEC);
  int errsv = errno;
  int target = FIRST_DIR_FD + (int)dirs->len;
  FuseDir d = { fd, target, g_strdup (option), g_strdup (dir), g_strdup (path) };
  g_array_append_val (dirs, d);
  *ok = fd >= 0;
  errno = errsv;
  return target;
}

/* How the user named the kept layer: --name NAME when it is the named
 * sandbox's own directory, else --upper DIR (spec.c made spec->upper
 * DIR/upper and spec->upper_work DIR/work). */
static char *
upper_option (const SbxSpec *spec, char **dir)
{
  g_autofree char *data_root = sbx_state_data_root ();
  g_autofree char *named
      = spec->name != NULL ? g_build_filename (data_root, spec->name, NULL) : NULL;
  *dir = g_path_get_dirname (spec->upper);
  if (named != NULL && strcmp (named, *dir) == 0)
    return g_strdup_printf ("--name %s", spec->name);
  return g_strdup ("--upper");
}

static void
close_dirs (GArray *dirs)
{
  for (guint i = 0; i < dirs->len; i++)
    sbx_util_close_fdp (&g_array_index (dirs, FuseDir, i).fd);
}

/* The lowerdir, upperdir and workdir options: every directory as an fd of
 * the monitor's view of the host (recorded in @dirs), so no path is parsed
 * again and no ',' or ':' in a name can change the options.  FALSE, with
 * errno, when one cannot be opened; the last entry of @dirs is that one. */
static gboolean
layer_options (const SbxSpec *spec, GArray *dirs, GString *opts)
{
  gboolean ok = TRUE;
  g_string_append (opts, "lowerdir=");
  /* Highest first. */
  for (guint i = spec->layers->len; i > 0; i--)
    {
      const char *layer = spec->layers->pdata[i - 1];
      int fd = open_layer (dirs, "--layer", layer, layer, &ok);
      g_string_append_printf (opts, "/proc/self/fd/%d:", fd);
    }
  int base = open_layer (dirs, spec->rootfs != NULL ? "--rootfs" : NULL, spec->rootfs,
                         spec->rootfs != NULL ? spec->rootfs : "/", &ok);
  g_string_append_printf (opts, "/proc/self/fd/%d", base);
  if (spec->upper != NULL)
    {
      g_autofree char *dir = NULL;
      g_autofree char *option = upper_option (spec, &dir);
      g_autofree char *work_path = g_build_filename (spec->upper_work, "fuse", NULL);
      int upper = open_layer (dirs, option, dir, spec->upper, &ok);
      int work = open_layer (dirs, option, dir, work_path, &ok);
      g_string_append_printf (opts, ",upperdir=/proc/self/fd/%d,workdir=/proc/self/fd/%d", upper,
                              work);
    }
  else
    /* The throwaway layer, a tmpfs in the sandbox's mount namespace. */
    g_string_append (opts, ",upperdir=" SBX_STAGING_LAYER "/upper,workdir=" SBX_STAGING_LAYER
                           "/work/fuse");
  return ok;
}

static SbxFuse *spawn_failed (GArray *dirs, int err, GError **error, const char *fmt, ...)
    G_GNUC_PRINTF (4, 5);

/* Frees what sbx_fuse_spawn() made and fails with a message. */
static SbxFuse *
spawn_failed (GArray *dirs, int err, GError **error, const char *fmt, ...)
{
  va_list ap;
  va_start (ap, fmt);
  g_autofree char *text = g_strdup_vprintf (fmt, ap);
  va_end (ap);
  if (error != NULL && *error == NULL)
    g_set_error_literal (error, G_FILE_ERROR, G_FILE_ERROR_FAILED, text);
  close_dirs (dirs);
  g_array_unref (dirs);
  if (err >= 0)
    close (err);
  return NULL;
}

SbxFuse *
sbx_fuse_spawn (const SbxSpec *spec, int exe, int sandbox_pidfd, gboolean root_mapped,
                GError **error)
{
  GArray *dirs = g_array_new (FALSE, FALSE, sizeof (FuseDir));
  g_array_set_clear_func (dirs, fuse_dir_clear);
  g_autoptr (GString) opts = g_string_new (NULL);

  if (!layer_options (spec, dirs, opts))
    {
      int errsv = errno;
      FuseDir *d = &g_array_index (dirs, FuseDir, dirs->len - 1);
      return spawn_failed (dirs, -1, error, "%s%s%s: %s", d->option != NULL ? d->option : "",
                           d->option != NULL ? " " : "", d->path, sbx_util_strerror (errsv));
    }
  /* The kept layer was checked by path (spec.c); these are the directories
   * the daemon gets. */
  for (guint i = spec->upper != NULL ? dirs->len - 2 : dirs->len; i < dirs->len; i++)
    {
      FuseDir *d = &g_array_index (dirs, FuseDir, i);
      if (!sbx_util_dir_is_private (d->fd))
        return spawn_failed (dirs, -1, error,
                             "%s %s: %s is not yours alone any more (its owner or mode changed "
                             "since sbx checked it)",
                             d->option, d->dir, d->path);
    }
  /* allow_other: the sandbox's other users (apt's _apt, daemons) reach the
   * mount too; the daemon checks permissions itself.  squash_to_root:
   * --map-root sees the host's root-owned files as its own, so an install
   * into /usr works; what the caller cannot read on the host stays
   * unreadable, because the daemon works with the caller's rights there. */
  g_string_append (opts, ",allow_other");
  /* writeback=0: every write() goes to the daemon and fails there when the
   * upper layer's disk is full.  With fuse-overlayfs' default writeback
   * cache the kernel took the data, write() returned success, and the
   * daemon's later write failed where no one heard of it: the file was
   * empty on disk.  (fuse-overlayfs 1.10 reports ENOSPC as EIO, but at
   * write() time.) */
  g_string_append (opts, ",writeback=0");
  if (spec->identity == SBX_ID_ROOT)
    g_string_append (opts, ",squash_to_root");

  int err = memfd_create ("fuse-overlayfs-stderr", MFD_CLOEXEC);
  if (err < 0)
    return spawn_failed (dirs, -1, error, "cannot start fuse-overlayfs: memfd_create: %s",
                         sbx_util_strerror (errno));
  cleanup_fd int null = open ("/dev/null", O_RDONLY | O_CLOEXEC);
  if (null < 0)
    return spawn_failed (dirs, err, error, "cannot start fuse-overlayfs: /dev/null: %s",
                         sbx_util_strerror (errno));

  g_autoptr (GArray) fds = g_array_new (FALSE, FALSE, sizeof (int));
  int std[] = { null, err, err };
  g_array_append_vals (fds, std, G_N_ELEMENTS (std));
  for (guint i = 0; i < dirs->len; i++)
    g_array_append_val (fds, g_array_index (dirs, FuseDir, i).fd);

  /* What is meant for the caller must not stop the daemon while the
   * sandbox runs: SIGINT, SIGHUP and SIGQUIT stay blocked, and a process
   * group of its own keeps off what is sent to the caller's group (a ^C, or
   * timeout(1), which signals its whole group); the monitor forwards those
   * to the sandbox, whose files must stay reachable while it handles them.
   * SIGTERM is left to it: libfuse unmounts on it, which is how
   * sbx_fuse_stop() ends it. */
  sigset_t blocked;
  sigemptyset (&blocked);
  sigaddset (&blocked, SIGINT);
  sigaddset (&blocked, SIGHUP);
  sigaddset (&blocked, SIGQUIT);
  const char *argv[] = { "fuse-overlayfs", "-f", "-o", opts->str, SBX_STAGING_FUSE, NULL };
  SbxHelper h = {
    .exe = exe,
    .name = "fuse-overlayfs",
    .argv = (char *const *)argv,
    /* The child's first mount namespace, where / is still the host's: the
     * daemon's loader and libraries come from there, never from a layer
     * (rootfs.c pivots the sandbox into a namespace of its own). */
    .join_pidfd = sandbox_pidfd,
    .join_flags = CLONE_NEWUSER | CLONE_NEWNS,
    /* fuse-overlayfs gives new files the ids of the process that makes
     * them: root inside when root is mapped; else the caller, who then
     * needs CAP_SYS_ADMIN for the mount (without it, fuse-overlayfs would
     * fall back to fusermount3, which refuses allow_other). */
    .become_root = root_mapped,
    .keep_sys_admin = !root_mapped,
    .own_pgrp = TRUE,
    .blocked = &blocked,
    .fds = (const int *)fds->data,
    .n_fds = fds->len,
  };
  int pidfd = -1;
  pid_t pid = sbx_helper_spawn (&h, &pidfd, error);
  close_dirs (dirs);
  if (pid < 0)
    return spawn_failed (dirs, err, error, "cannot start fuse-overlayfs");
  SbxFuse *fuse = g_new0 (SbxFuse, 1);
  fuse->pid = pid;
  fuse->pidfd = pidfd;
  fuse->err = err;
  fuse->dirs = dirs;
  return fuse;
}

/* The directory behind "/proc/self/fd/N" in the daemon's words, or NULL. */
static const FuseDir *
dir_of_fd (SbxFuse *fuse, const char *digits)
{
  int fd = (int)g_ascii_strtoll (digits, NULL, 10);
  for (guint i = 0; i < fuse->dirs->len; i++)
    if (g_array_index (fuse->dirs, FuseDir, i).target == fd)
      return &g_array_index (fuse->dirs, FuseDir, i);
  return NULL;
}

typedef struct
{
  SbxFuse *fuse;
  const FuseDir *first; /* the first directory the text names */
} Rewrite;

static gboolean
replace_fd_path (const GMatchInfo *match, GString *out, gpointer data)
{
  Rewrite *r = data;
  g_autofree char *digits = g_match_info_fetch (match, 1);
  const FuseDir *d = dir_of_fd (r->fuse, digits);
  if (d == NULL)
    {
      g_autofree char *all = g_match_info_fetch (match, 0);
      g_string_append (out, all);
      return FALSE;
    }
  if (r->first == NULL)
    r->first = d;
  g_string_append (out, d->path);
  return FALSE;
}

/* The daemon names the directories by the /proc/self/fd/N it was given:
 * says the user's paths instead, and which option the first one came from
 * ("--upper /x/up: ... cannot retrieve path for /x/up/upper"). */
static char *
name_user_paths (SbxFuse *fuse, const char *text)
{
  g_autoptr (GRegex) re = g_regex_new ("/proc/self/fd/([0-9]+)", 0, 0, NULL);
  Rewrite r = { fuse, NULL };
  g_autofree char *named = g_regex_replace_eval (re, text, -1, 0, 0, replace_fd_path, &r, NULL);
  if (named == NULL)
    return g_strdup (text);
  if (r.first == NULL || r.first->option == NULL)
    return g_steal_pointer (&named);
  return g_strdup_printf ("%s %s: %s", r.first->option, r.first->dir, named);
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
  /* Its own "fuse-overlayfs: " prefix, once is enough. */
  for (const char *p; (p = strstr (text->str, "fuse-overlayfs: ")) != NULL;)
    g_string_erase (text, p - text->str, strlen ("fuse-overlayfs: "));
  g_autofree char *how = sbx_util_describe_exit (&info);
  g_autofree char *why = g_strdup_printf ("fuse-overlayfs failed (%s)%s%s", how,
                                          text->len ? ": " : "", text->len ? text->str : "");
  return name_user_paths (fuse, why);
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
  g_array_unref (fuse->dirs);
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
