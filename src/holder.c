/* SPDX-License-Identifier: GPL-2.0-or-later */
/* holder.c: the caller's holder.
 *
 * Writing a map of more than the writer's own id needs CAP_SETUID (and
 * CAP_SETGID) in the parent of the namespace being mapped.  On the host only
 * the setuid newuidmap and newgidmap have it: two execs of setuid programs
 * on every run, the longest step of a start.  A process that has joined a
 * user namespace it owns has every capability there.  So the holder, one
 * process per user, holds a user namespace whose maps (written once, by
 * newuidmap and newgidmap) take the caller's id and subordinate ranges to
 * themselves; a run joins it in a short-lived fork, clones the sandbox's
 * namespaces from there and writes the sandbox's maps itself.  The maps
 * read the same as before, inside and out, since the holder's are the
 * identity.  The holder runs nothing and holds nothing but its namespace
 * and an inotify watch on its record's directory: it leaves when the record
 * no longer names it or the directory goes (the runtime directory is
 * removed at logout), and when a run finds its maps out of date
 * (/etc/subuid changed) and tells it to.
 *
 * It is found through $XDG_RUNTIME_DIR/sbx/.holder ("PID STARTTIME"), never
 * trusted: the pid is pinned with a pidfd, its start time compared, and its
 * user namespace must be a child of ours, owned by us, mapped exactly as
 * wanted, setgroups allowed.  A sandbox's namespaces are grandchildren of
 * ours, so a record pointing into a sandbox is refused (docs/security.md). */
#include "config.h"

#include "holder.h"
#include "state.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/nsfs.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/inotify.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#define RECORD_FILE ".holder" /* not a valid sandbox name: never listed */
#define LOCK_FILE   ".holder.lock"
/* What the holder's watch on the record's directory reports. */
#define WATCH_EVENTS                                                                               \
  (IN_CREATE | IN_DELETE | IN_MOVED_TO | IN_MOVED_FROM | IN_CLOSE_WRITE | IN_DELETE_SELF           \
   | IN_MOVE_SELF | IN_UNMOUNT | IN_ONLYDIR)

struct SbxHolder
{
  pid_t pid;
  int pidfd;
  int userns_fd;
};

void
sbx_holder_free (SbxHolder *holder)
{
  if (holder == NULL)
    return;
  sbx_util_close_fdp (&holder->pidfd);
  sbx_util_close_fdp (&holder->userns_fd);
  g_free (holder);
}

/* The holder's own map for @ranges: the caller's @id and each range to
 * themselves, one line each (newuidmap checks a line against one entry of
 * /etc/subuid, so the caller's id is never merged into a range). */
static GArray *
identity_lines (guint32 id, const GArray *ranges)
{
  GArray *lines = g_array_new (FALSE, FALSE, sizeof (SbxIdMapLine));
  g_array_append_val (lines, ((SbxIdMapLine){ id, id, 1 }));
  for (guint i = 0; i < ranges->len; i++)
    {
      const SbxIdRange *r = &g_array_index (ranges, SbxIdRange, i);
      g_array_append_val (lines, ((SbxIdMapLine){ r->start, r->start, r->count }));
    }
  return lines;
}

static gint
compare_lines (gconstpointer a, gconstpointer b)
{
  const SbxIdMapLine *x = a, *y = b;
  return x->inside < y->inside ? -1 : x->inside > y->inside;
}

/* A small file of /proc/PID (@procdir), or NULL. */
static char *
read_proc_file (int procdir, const char *name, size_t max)
{
  cleanup_fd int fd = procdir >= 0 ? openat (procdir, name, O_RDONLY | O_CLOEXEC) : -1;
  if (fd < 0)
    return NULL;
  g_autofree char *buf = g_malloc (max + 1);
  size_t len = 0;
  ssize_t n = 0;
  while (len < max && ((n = read (fd, buf + len, max - len)) > 0 || (n < 0 && errno == EINTR)))
    len += n > 0 ? (size_t)n : 0;
  if (n < 0)
    return NULL;
  buf[len] = '\0';
  return g_steal_pointer (&buf);
}

/* The lines of /proc/PID/{uid,gid}_map under @procdir, sorted; NULL when
 * unreadable. */
static GArray *
read_map (int procdir, const char *name)
{
  g_autofree char *text = read_proc_file (procdir, name, 64 * 1024);
  if (text == NULL)
    return NULL;
  GArray *lines = g_array_new (FALSE, FALSE, sizeof (SbxIdMapLine));
  g_auto (GStrv) rows = g_strsplit (text, "\n", -1);
  for (char **r = rows; *r != NULL; r++)
    {
      unsigned int inside, outside, count;
      if (sscanf (*r, "%u %u %u", &inside, &outside, &count) == 3)
        g_array_append_val (lines, ((SbxIdMapLine){ inside, outside, count }));
    }
  g_array_sort (lines, compare_lines);
  return lines;
}

static gboolean
same_lines (GArray *have, GArray *want)
{
  if (have == NULL || have->len != want->len)
    return FALSE;
  g_array_sort (want, compare_lines);
  return memcmp (have->data, want->data, have->len * sizeof (SbxIdMapLine)) == 0;
}

static char *
runtime_file (const char *name, GError **error)
{
  g_autofree char *root = sbx_state_runtime_root (error);
  return root != NULL ? g_build_filename (root, name, NULL) : NULL;
}

/* "PID STARTTIME" from the record, which must be ours. */
static gboolean
read_record (const char *path, pid_t *pid, guint64 *start)
{
  cleanup_fd int fd = open (path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
  struct stat st;
  char buf[64];
  if (fd < 0 || fstat (fd, &st) < 0 || !S_ISREG (st.st_mode) || st.st_uid != getuid ())
    return FALSE;
  ssize_t n = read (fd, buf, sizeof buf - 1);
  if (n <= 0)
    return FALSE;
  buf[n] = '\0';
  int p;
  unsigned long long s;
  if (sscanf (buf, "%d %llu", &p, &s) != 2 || p <= 1)
    return FALSE;
  *pid = p;
  *start = s;
  return TRUE;
}

/* Whether the process of @procdir started at @start (clock ticks after
 * boot, field 22 of its stat) and is not a zombie: a dead holder's
 * credentials still hold its namespace until it is reaped. */
static gboolean
running_since (int procdir, guint64 start)
{
  g_autofree char *stat = read_proc_file (procdir, "stat", 1024);
  g_auto (GStrv) fields = sbx_util_stat_fields (stat);
  return fields != NULL && g_strv_length (fields) >= 20 && strcmp (fields[0], "Z") != 0
         && strcmp (fields[0], "X") != 0 && g_ascii_strtoull (fields[19], NULL, 10) == start;
}

/* Whether @ns is a user namespace owned by us whose parent is our own. */
static gboolean
child_of_ours (int ns)
{
  uid_t owner;
  struct stat parent_st, self_st;
  if (ioctl (ns, NS_GET_OWNER_UID, &owner) < 0 || owner != getuid ())
    return FALSE;
  cleanup_fd int parent = ioctl (ns, NS_GET_PARENT);
  return parent >= 0 && fstat (parent, &parent_st) == 0
         && stat ("/proc/self/ns/user", &self_st) == 0 && parent_st.st_dev == self_st.st_dev
         && parent_st.st_ino == self_st.st_ino;
}

typedef enum
{
  HOLDER_NONE,  /* no record, or it names no holder of ours */
  HOLDER_STALE, /* ours, but its maps are not the ones wanted */
  HOLDER_GOOD,
} HolderState;

/* Opens the holder the record names and checks it; with @want_uid NULL,
 * only that it is ours.  *@out gets it unless the state is NONE. */
static HolderState
open_holder (const char *record, GArray *want_uid, GArray *want_gid, SbxHolder **out)
{
  pid_t pid;
  guint64 start;
  if (!read_record (record, &pid, &start))
    return HOLDER_NONE;
  g_autoptr (SbxHolder) h = g_new0 (SbxHolder, 1);
  h->pid = pid;
  h->userns_fd = -1;
  /* The pidfd pins the process: once its start time matches, the pid is
   * the holder's for as long as the pidfd says it is alive. */
  h->pidfd = (int)syscall (SYS_pidfd_open, pid, 0);
  char path[64];
  snprintf (path, sizeof path, "/proc/%d", (int)pid);
  cleanup_fd int procdir = open (path, O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (h->pidfd < 0 || !running_since (procdir, start))
    return HOLDER_NONE;
  h->userns_fd = openat (procdir, "ns/user", O_RDONLY | O_CLOEXEC);
  if (h->userns_fd < 0 || sbx_util_pidfd_send_signal (h->pidfd, 0) < 0
      || !child_of_ours (h->userns_fd))
    return HOLDER_NONE;
  HolderState state = HOLDER_GOOD;
  if (want_uid != NULL)
    {
      g_autoptr (GArray) uid_map = read_map (procdir, "uid_map");
      g_autoptr (GArray) gid_map = read_map (procdir, "gid_map");
      g_autofree char *setgroups = read_proc_file (procdir, "setgroups", 64);
      if (!same_lines (uid_map, want_uid) || !same_lines (gid_map, want_gid)
          || g_strcmp0 (setgroups, "allow\n") != 0)
        state = HOLDER_STALE;
    }
  /* Still the same process after all that reading. */
  if (sbx_util_pidfd_send_signal (h->pidfd, 0) < 0)
    return HOLDER_NONE;
  *out = g_steal_pointer (&h);
  return state;
}

/* The holder's life after the fork: in a user namespace of its own, mapped
 * by the run that started it, then `sbx __holder` (a clean image, named as
 * what it is in ps) with a watch on the directory of its record as fd 3 and
 * that directory as fd 4.  System calls only (a fork of the monitor).
 * @ready and @go are its ends of two pipes. */
G_GNUC_NORETURN static void
holder_main (int ready, int go, const char *dir)
{
  char c = 0;
  sigset_t none;
  /* Nothing of the terminal's reaches it (a session of its own), and it
   * holds none of the caller's files: a reader of the caller's pipe must
   * not wait for the holder. */
  prctl (PR_SET_NAME, "sbx-holder", 0, 0, 0);
  if (setsid () < 0 || chdir ("/") < 0)
    _exit (1);
  int null = open ("/dev/null", O_RDWR | O_CLOEXEC);
  for (int fd = 0; null >= 0 && fd <= 2; fd++)
    dup2 (null, fd);
  int keep[] = { ready, go };
  sbx_util_close_fds_except (keep, G_N_ELEMENTS (keep));
  if (unshare (CLONE_NEWUSER) < 0 || write (ready, "u", 1) != 1)
    _exit (1);
  /* The maps are written and the record is in place. */
  if (read (go, &c, 1) != 1)
    _exit (1);
  /* Made close-on-exec as every fd of sbx's, moved above 4, then copied
   * to 3 and 4 without the flag (a dup2() onto itself would keep it). */
  int watch = inotify_init1 (IN_CLOEXEC);
  int dirfd = open (dir, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (watch < 0 || dirfd < 0 || inotify_add_watch (watch, dir, WATCH_EVENTS) < 0
      || (watch = fcntl (watch, F_DUPFD_CLOEXEC, 5)) < 0
      || (dirfd = fcntl (dirfd, F_DUPFD_CLOEXEC, 5)) < 0 || dup2 (watch, 3) != 3
      || dup2 (dirfd, 4) != 4)
    _exit (1);
  sigemptyset (&none);
  sigprocmask (SIG_SETMASK, &none, NULL);
  char *argv[] = { (char *)"sbx", (char *)"__holder", NULL };
  execve ("/proc/self/exe", argv, environ);
  _exit (1);
}

/* Whether the record in @dirfd still names this process. */
static gboolean
still_recorded (int dirfd)
{
  char path[32];
  snprintf (path, sizeof path, "/proc/self/fd/%d/%s", dirfd, RECORD_FILE);
  pid_t pid;
  guint64 start;
  return read_record (path, &pid, &start) && pid == getpid ();
}

int
sbx_holder_wait (int argc, char **argv)
{
  (void)argv;
  struct stat st;
  char link[64] = "";
  if (argc != 1 || readlink ("/proc/self/fd/3", link, sizeof link - 1) < 0
      || strcmp (link, "anon_inode:inotify") != 0 || fstat (4, &st) < 0 || !S_ISDIR (st.st_mode))
    {
      fprintf (stderr, "sbx: __holder is how sbx keeps its user namespace; run 'sbx run'\n");
      return SBX_EXIT_FAILURE;
    }
  prctl (PR_SET_NAME, "sbx-holder", 0, 0, 0);
  signal (SIGHUP, SIG_IGN);
  signal (SIGINT, SIG_IGN);
  signal (SIGQUIT, SIG_IGN);
  /* It leaves when its directory goes (logout removes the runtime
   * directory) or when the record names another holder or none. */
  for (;;)
    {
      char events[4096] __attribute__ ((aligned (__alignof__(struct inotify_event))));
      ssize_t n = read (3, events, sizeof events);
      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0)
        return 0;
      for (char *p = events; p < events + n;)
        {
          const struct inotify_event *e = (const struct inotify_event *)p;
          if (e->mask & (IN_DELETE_SELF | IN_MOVE_SELF | IN_UNMOUNT | IN_IGNORED | IN_Q_OVERFLOW))
            return 0;
          p += sizeof *e + e->len;
        }
      if (!still_recorded (4))
        return 0;
    }
}

/* Forks the holder (detached: its parent exits at once, so init reaps it)
 * and returns its pid once it has its user namespace, with *@go the pipe
 * end that lets it go on. */
static pid_t
fork_holder (const char *dir, int *go_out)
{
  int ready[2], go[2];
  if (pipe2 (ready, O_CLOEXEC) < 0)
    return -1;
  if (pipe2 (go, O_CLOEXEC) < 0)
    {
      close (ready[0]);
      close (ready[1]);
      return -1;
    }
  pid_t middle = fork ();
  if (middle == 0)
    {
      pid_t holder = fork ();
      if (holder == 0)
        {
          close (ready[0]);
          close (go[1]);
          holder_main (ready[1], go[0], dir);
        }
      _exit (holder > 0 && write (ready[1], &holder, sizeof holder) == sizeof holder ? 0 : 1);
    }
  close (ready[1]);
  close (go[0]);
  pid_t holder = -1;
  char c;
  if (middle > 0)
    {
      while (waitpid (middle, NULL, 0) < 0 && errno == EINTR)
        ;
      if (!sbx_util_read_all (ready[0], &holder, sizeof holder) || read (ready[0], &c, 1) != 1)
        holder = -1;
    }
  close (ready[0]);
  if (holder <= 0)
    {
      close (go[1]);
      return -1;
    }
  *go_out = go[1];
  return holder;
}

/* Starts a holder whose maps are @uid_lines and @gid_lines (identity_lines()
 * of @plan's ranges), records it and returns it. */
static SbxHolder *
start_holder (const SbxIdMapPlan *plan, const char *record, GArray *uid_lines, GArray *gid_lines,
              GError **error)
{
  int go = -1;
  g_autofree char *dir = g_path_get_dirname (record);
  pid_t pid = fork_holder (dir, &go);
  if (pid < 0)
    {
      g_set_error (error, G_FILE_ERROR, g_file_error_from_errno (errno),
                   "cannot start the holder: %s", sbx_util_strerror (errno));
      return NULL;
    }
  cleanup_fd int go_fd = go;
  cleanup_fd int pidfd = (int)syscall (SYS_pidfd_open, pid, 0);
  SbxIdMapPlan mapping = *plan;
  mapping.uid_lines = uid_lines;
  mapping.gid_lines = gid_lines;
  g_autofree char *tmp = g_strdup_printf ("%s.%d", record, (int)getpid ());
  g_autofree char *text
      = g_strdup_printf ("%d %" G_GUINT64_FORMAT "\n", (int)pid, sbx_state_pid_start_time (pid));
  if (pidfd < 0 || !sbx_userns_write_maps (&mapping, pid, error)
      || !g_file_set_contents_full (tmp, text, -1, G_FILE_SET_CONTENTS_NONE, 0600, error)
      || rename (tmp, record) < 0)
    {
      if (error != NULL && *error == NULL)
        g_set_error (error, G_FILE_ERROR, g_file_error_from_errno (errno),
                     "cannot record the holder in %s: %s", record, sbx_util_strerror (errno));
      unlink (tmp);
      if (pidfd >= 0)
        sbx_util_pidfd_send_signal (pidfd, SIGKILL);
      return NULL;
    }
  if (write (go_fd, "g", 1) != 1)
    return NULL;
  SbxHolder *h = NULL;
  if (open_holder (record, uid_lines, gid_lines, &h) != HOLDER_GOOD)
    {
      g_clear_pointer (&h, sbx_holder_free);
      g_set_error (error, G_FILE_ERROR, G_FILE_ERROR_FAILED,
                   "the new holder (pid %d) does not check out", (int)pid);
    }
  return h;
}

/* Whether runs of @plan's may use a holder: not with SBX_HOLDER=0, nor
 * for a single mapping (no ranges: nothing newuidmap would do), nor
 * without a runtime directory (also where the holder learns of logout). */
static char *
holder_record (const SbxIdMapPlan *plan, GError **error)
{
  const char *knob = g_getenv ("SBX_HOLDER");
  if (knob != NULL && strcmp (knob, "0") == 0)
    {
      g_set_error (error, G_FILE_ERROR, G_FILE_ERROR_FAILED, "SBX_HOLDER=0");
      return NULL;
    }
  if (plan->newuidmap == NULL || plan->uid_ranges == NULL || plan->gid_ranges == NULL)
    {
      g_set_error (error, G_FILE_ERROR, G_FILE_ERROR_FAILED, "a single mapping needs none");
      return NULL;
    }
  return runtime_file (RECORD_FILE, error);
}

SbxHolder *
sbx_holder_find (const SbxIdMapPlan *plan, gboolean *start_one, GError **error)
{
  *start_one = FALSE;
  g_autofree char *record = holder_record (plan, error);
  if (record == NULL)
    return NULL;
  g_autoptr (GArray) want_uid = identity_lines (plan->uid, plan->uid_ranges);
  g_autoptr (GArray) want_gid = identity_lines (plan->gid, plan->gid_ranges);
  SbxHolder *h = NULL;
  if (open_holder (record, want_uid, want_gid, &h) == HOLDER_GOOD)
    return h;
  g_clear_pointer (&h, sbx_holder_free);
  *start_one = TRUE;
  g_set_error (error, G_FILE_ERROR, G_FILE_ERROR_FAILED, "none running with these ranges");
  return NULL;
}

/* In the starter: makes sure a holder for @plan runs, one starter at a
 * time; TRUE when one does. */
static gboolean
ensure_holder (const SbxIdMapPlan *plan)
{
  g_autofree char *record = holder_record (plan, NULL);
  g_autofree char *root = sbx_state_runtime_root (NULL);
  g_autofree char *lock_path = runtime_file (LOCK_FILE, NULL);
  if (record == NULL || root == NULL || lock_path == NULL || g_mkdir_with_parents (root, 0700) < 0)
    return FALSE;
  /* Another starter at work will have made one: leave it to it (waiting
   * would pile up starters behind one that hangs). */
  cleanup_fd int lock = open (lock_path, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (lock < 0 || flock (lock, LOCK_EX | LOCK_NB) < 0)
    return errno == EWOULDBLOCK;
  g_autoptr (GArray) want_uid = identity_lines (plan->uid, plan->uid_ranges);
  g_autoptr (GArray) want_gid = identity_lines (plan->gid, plan->gid_ranges);
  g_autoptr (SbxHolder) h = NULL;
  HolderState state = open_holder (record, want_uid, want_gid, &h);
  if (state == HOLDER_GOOD)
    return TRUE;
  /* Ours but mapped otherwise: /etc/subuid or /etc/subgid changed.  Its
   * sandboxes keep their namespaces; later runs use the new one. */
  if (state == HOLDER_STALE)
    sbx_util_pidfd_send_signal (h->pidfd, SIGTERM);
  g_clear_pointer (&h, sbx_holder_free);
  h = start_holder (plan, record, want_uid, want_gid, NULL);
  return h != NULL;
}

int
sbx_holder_start (const SbxIdMapPlan *plan)
{
  int after[2];
  if (pipe2 (after, O_CLOEXEC) < 0)
    return -1;
  pid_t middle = fork ();
  if (middle == 0)
    {
      prctl (PR_SET_NAME, "sbx-holder", 0, 0, 0);
      /* The starter: detached (its parent exits at once), in a session of
       * its own, holding nothing of the run's but the helpers' fds. */
      if (fork () != 0)
        _exit (0);
      int null = open ("/dev/null", O_RDWR | O_CLOEXEC);
      for (int fd = 0; null >= 0 && fd <= 2; fd++)
        dup2 (null, fd);
      int keep[] = { after[0], plan->newuidmap_fd, plan->newgidmap_fd };
      sbx_util_close_fds_except (keep, G_N_ELEMENTS (keep));
      if (setsid () < 0 || chdir ("/") < 0)
        _exit (1);
      char c;
      ssize_t n;
      while ((n = read (after[0], &c, 1)) > 0 || (n < 0 && errno == EINTR))
        ;
      _exit (ensure_holder (plan) ? 0 : 1);
    }
  close (after[0]);
  while (middle > 0 && waitpid (middle, NULL, 0) < 0 && errno == EINTR)
    ;
  if (middle < 0)
    {
      close (after[1]);
      return -1;
    }
  return after[1];
}

typedef struct
{
  pid_t pid;
  int step; /* 0: none failed; else which */
  int err;
} CloneReport;

enum
{
  STEP_JOIN = 1,
  STEP_CLONE,
  STEP_MAP,
};

pid_t
sbx_holder_clone (const SbxHolder *holder, const SbxIdMapPlan *plan, guint64 flags, int *pidfd_out,
                  void (*child) (gpointer data), gpointer data, gboolean *joined, GError **error)
{
  g_autofree char *uid_map = sbx_userns_format_map (plan->uid_lines);
  g_autofree char *gid_map = sbx_userns_format_map (plan->gid_lines);
  CloneReport r = { 0 };
  int report[2];

  *joined = FALSE;
  if (pipe2 (report, O_CLOEXEC) < 0)
    {
      g_set_error (error, G_FILE_ERROR, g_file_error_from_errno (errno), "pipe: %s",
                   sbx_util_strerror (errno));
      return -1;
    }
  pid_t joiner = fork ();
  if (joiner == 0)
    {
      close (report[0]);
      /* CLONE_PARENT: the sandbox is the monitor's child, as it would be
       * without the holder (it waits for it, and it dies with it). */
      if (setns (holder->userns_fd, CLONE_NEWUSER) < 0)
        r = (CloneReport){ 0, STEP_JOIN, errno };
      else if ((r.pid = sbx_util_clone3 (flags | CLONE_PARENT, NULL)) == 0)
        {
          close (report[1]);
          child (data);
          _exit (SBX_EXIT_FAILURE);
        }
      else if (r.pid < 0)
        r = (CloneReport){ 0, STEP_CLONE, errno };
      else
        {
          /* Named apart from PID 1, the monitor's other "sbx" child. */
          prctl (PR_SET_NAME, "sbx-joiner", 0, 0, 0);
          if (!sbx_userns_write_maps_directly (r.pid, uid_map, gid_map))
            r = (CloneReport){ r.pid, STEP_MAP, errno };
        }
      _exit (sbx_util_write_all (report[1], &r, sizeof r) ? 0 : 1);
    }
  close (report[1]);
  gboolean reported = joiner > 0 && sbx_util_read_all (report[0], &r, sizeof r);
  int errsv = errno;
  close (report[0]);
  while (joiner > 0 && waitpid (joiner, NULL, 0) < 0 && errno == EINTR)
    ;
  if (!reported)
    r = (CloneReport){ 0, joiner < 0 ? STEP_JOIN : STEP_CLONE, joiner < 0 ? errsv : EIO };
  *joined = r.step != STEP_JOIN;
  if (r.step == 0 && pidfd_out != NULL
      && (*pidfd_out = (int)syscall (SYS_pidfd_open, r.pid, 0)) < 0)
    r = (CloneReport){ r.pid, STEP_CLONE, errno };
  if (r.step == 0)
    return r.pid;
  if (r.pid > 0)
    {
      kill (r.pid, SIGKILL);
      while (waitpid (r.pid, NULL, 0) < 0 && errno == EINTR)
        ;
    }
  const char *what = r.step == STEP_JOIN    ? "cannot join the holder's user namespace"
                     : r.step == STEP_CLONE ? "cannot create the namespaces in the holder's"
                                            : "cannot write the sandbox's id maps";
  g_set_error (error, G_FILE_ERROR, g_file_error_from_errno (r.err), "%s: %s", what,
               sbx_util_strerror (r.err));
  return -1;
}

/* "uids 1000, 100000-165535" from a map's lines. */
static char *
describe_map (GArray *lines)
{
  g_autoptr (GString) s = g_string_new (NULL);
  for (guint i = 0; lines != NULL && i < lines->len; i++)
    {
      const SbxIdMapLine *l = &g_array_index (lines, SbxIdMapLine, i);
      g_string_append_printf (s, "%s%u", i > 0 ? ", " : "", l->outside);
      if (l->count > 1)
        g_string_append_printf (s, "-%u", l->outside + l->count - 1);
    }
  return g_string_free (g_steal_pointer (&s), FALSE);
}

char *
sbx_holder_describe (void)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *record = runtime_file (RECORD_FILE, &error);
  g_autoptr (SbxHolder) h = NULL;
  if (record == NULL)
    return g_strdup_printf ("none: %s", error->message);
  if (open_holder (record, NULL, NULL, &h) == HOLDER_NONE)
    return g_strdup ("none running (the next run with subordinate ids starts one)");
  char path[64];
  snprintf (path, sizeof path, "/proc/%d", (int)h->pid);
  cleanup_fd int procdir = open (path, O_PATH | O_DIRECTORY | O_CLOEXEC);
  g_autoptr (GArray) uid_map = read_map (procdir, "uid_map");
  g_autoptr (GArray) gid_map = read_map (procdir, "gid_map");
  g_autofree char *uids = describe_map (uid_map);
  g_autofree char *gids = describe_map (gid_map);
  struct stat st;
  return g_strdup_printf ("pid %d, user namespace %llu; uids %s; gids %s", (int)h->pid,
                          fstat (h->userns_fd, &st) == 0 ? (unsigned long long)st.st_ino : 0ULL,
                          uids, gids);
}
