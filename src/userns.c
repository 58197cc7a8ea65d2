/* SPDX-License-Identifier: GPL-2.0-or-later */
/* userns.c: subordinate id ranges, id maps, newuidmap/newgidmap and the
 * single-mapping fallback. */
#include "config.h"

#include "userns.h"
#include "helper.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sched.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>

/* The kernel accepts at most 340 lines per map (since Linux 4.15). */
#define MAX_MAP_LINES 340

void
sbx_userns_plan_free (SbxIdMapPlan *plan)
{
  if (plan == NULL)
    return;
  g_array_unref (plan->uid_lines);
  g_array_unref (plan->gid_lines);
  g_clear_pointer (&plan->uid_ranges, g_array_unref);
  g_clear_pointer (&plan->gid_ranges, g_array_unref);
  g_free (plan->newuidmap);
  g_free (plan->newgidmap);
  sbx_util_close_fdp (&plan->newuidmap_fd);
  sbx_util_close_fdp (&plan->newgidmap_fd);
  g_free (plan);
}

static gint
compare_ranges (gconstpointer a, gconstpointer b)
{
  const SbxIdRange *x = a, *y = b;
  return x->start < y->start ? -1 : x->start > y->start;
}

/* Adds [start, start+count) to @out minus the id @cut. */
static void
add_range_without (GArray *out, guint64 start, guint64 count, guint32 cut)
{
  guint64 end = start + count;
  if (cut >= start && cut < end)
    {
      if (cut > start)
        g_array_append_val (out, ((SbxIdRange){ (guint32)start, (guint32)(cut - start) }));
      if (end > (guint64)cut + 1)
        g_array_append_val (out, ((SbxIdRange){ cut + 1, (guint32)(end - cut - 1) }));
      return;
    }
  g_array_append_val (out, ((SbxIdRange){ (guint32)start, (guint32)count }));
}

GArray *
sbx_userns_parse_subids (const char *contents, const char *user, guint32 id)
{
  g_autoptr (GArray) raw = g_array_new (FALSE, FALSE, sizeof (SbxIdRange));
  g_autofree char *id_text = g_strdup_printf ("%u", id);
  g_auto (GStrv) lines = g_strsplit (contents != NULL ? contents : "", "\n", -1);

  for (char **l = lines; *l; l++)
    {
      char *line = g_strstrip (*l);
      if (line[0] == '\0' || line[0] == '#')
        continue;
      g_auto (GStrv) f = g_strsplit (line, ":", -1);
      if (g_strv_length (f) != 3)
        continue; /* malformed lines are ignored, as shadow's helpers do */
      if (!((user != NULL && strcmp (f[0], user) == 0) || strcmp (f[0], id_text) == 0))
        continue;
      guint64 start, count;
      if (!sbx_util_parse_u64 (f[1], G_MAXUINT32, &start)
          || !sbx_util_parse_u64 (f[2], G_MAXUINT32, &count) || count == 0
          || start + count - 1 > G_MAXUINT32 - 1)
        continue;
      g_array_append_val (raw, ((SbxIdRange){ (guint32)start, (guint32)count }));
    }
  g_array_sort (raw, compare_ranges);

  /* Merge overlapping and adjacent ranges, then cut the caller's own id out:
   * it is mapped on its own line and must not appear twice outside. */
  GArray *merged = g_array_new (FALSE, FALSE, sizeof (SbxIdRange));
  guint64 cur_start = 0, cur_end = 0;
  gboolean have = FALSE;
  for (guint i = 0; i < raw->len; i++)
    {
      SbxIdRange *r = &g_array_index (raw, SbxIdRange, i);
      guint64 s = r->start, e = (guint64)r->start + r->count;
      if (have && s <= cur_end)
        {
          cur_end = MAX (cur_end, e);
          continue;
        }
      if (have)
        add_range_without (merged, cur_start, cur_end - cur_start, id);
      cur_start = s;
      cur_end = e;
      have = TRUE;
    }
  if (have)
    add_range_without (merged, cur_start, cur_end - cur_start, id);
  return merged;
}

static void
add_line (GArray *lines, guint32 inside, guint32 outside, guint32 count)
{
  g_array_append_val (lines, ((SbxIdMapLine){ inside, outside, count }));
}

GArray *
sbx_userns_build_map (SbxIdentity identity, guint32 id, const GArray *ranges)
{
  GArray *lines = g_array_new (FALSE, FALSE, sizeof (SbxIdMapLine));
  guint32 self_inside = identity == SBX_ID_ROOT ? 0 : id;
  /* Inside ids handed out to the subordinate ranges, in order, skipping the
   * one the caller takes: map-root 1..N, keep-id 0..id-1 and id+1..N. */
  guint64 next = identity == SBX_ID_ROOT ? 1 : 0;

  add_line (lines, self_inside, id, 1);
  for (guint i = 0; ranges != NULL && i < ranges->len && lines->len < MAX_MAP_LINES; i++)
    {
      const SbxIdRange *r = &g_array_index (ranges, SbxIdRange, i);
      guint64 outside = r->start, left = r->count;
      while (left > 0 && lines->len < MAX_MAP_LINES)
        {
          if (next == self_inside)
            next++;
          /* The inside id space ends at 2^32-2 (-1 is the invalid id). */
          if (next >= G_MAXUINT32)
            return lines;
          guint64 room = (next < self_inside ? self_inside : (guint64)G_MAXUINT32) - next;
          guint64 n = MIN (left, room);
          add_line (lines, (guint32)next, (guint32)outside, (guint32)n);
          next += n;
          outside += n;
          left -= n;
        }
    }
  return lines;
}

char *
sbx_userns_format_map (const GArray *lines)
{
  GString *s = g_string_new (NULL);
  for (guint i = 0; i < lines->len; i++)
    {
      const SbxIdMapLine *l = &g_array_index (lines, SbxIdMapLine, i);
      g_string_append_printf (s, "%u %u %u\n", l->inside, l->outside, l->count);
    }
  return g_string_free (s, FALSE);
}

/* The ranges of the caller in @path, or NULL when there are none (or the file
 * cannot be read). */
static GArray *
read_ranges (const char *path, const SbxSpec *spec, guint32 id)
{
  g_autofree char *contents = NULL;
  if (!g_file_get_contents (path, &contents, NULL, NULL))
    return NULL;
  GArray *ranges = sbx_userns_parse_subids (contents, spec->user_name, id);
  if (ranges->len == 0)
    {
      g_array_unref (ranges);
      return NULL;
    }
  return ranges;
}

char *
sbx_userns_find_helper (const char *name)
{
  char *path = g_find_program_in_path (name);
  if (path != NULL && g_path_is_absolute (path))
    return path;
  g_free (path);
  g_autofree char *fixed = g_build_filename ("/usr/bin", name, NULL);
  if (access (fixed, X_OK) == 0)
    return g_steal_pointer (&fixed);
  return NULL;
}

SbxIdMapPlan *
sbx_userns_plan (const SbxSpec *spec)
{
  g_autoptr (SbxIdMapPlan) plan = g_new0 (SbxIdMapPlan, 1);
  g_autoptr (GArray) uid_ranges = NULL;
  g_autoptr (GArray) gid_ranges = NULL;
  const char *why = NULL;

  plan->newuidmap_fd = plan->newgidmap_fd = -1;
  plan->uid = spec->uid;
  plan->gid = spec->gid;
  plan->inside_uid = spec->identity == SBX_ID_ROOT ? 0 : spec->uid;
  plan->inside_gid = spec->identity == SBX_ID_ROOT ? 0 : spec->gid;

  if (!spec->no_subids)
    {
      uid_ranges = read_ranges ("/etc/subuid", spec, spec->uid);
      gid_ranges = read_ranges ("/etc/subgid", spec, spec->gid);
      if (uid_ranges == NULL)
        why = "no subordinate uid range in /etc/subuid";
      else if (gid_ranges == NULL)
        why = "no subordinate gid range in /etc/subgid";
      else if ((plan->newuidmap = sbx_userns_find_helper ("newuidmap")) == NULL
               || (plan->newgidmap = sbx_userns_find_helper ("newgidmap")) == NULL)
        why = "newuidmap/newgidmap not found (install the uidmap package)";
      else if ((plan->newuidmap_fd = sbx_helper_open (plan->newuidmap, NULL)) < 0
               || (plan->newgidmap_fd = sbx_helper_open (plan->newgidmap, NULL)) < 0)
        why = "newuidmap/newgidmap cannot be opened";
    }
  /* Root may write any map itself; a single mapping is its natural default
   * and not worth a warning on every run. */
  if (why != NULL && spec->uid != 0)
    {
      sbx_warn ("%s for %s; mapping only uid %u and gid %u (see 'sbx doctor')", why,
                spec->user_name != NULL ? spec->user_name : "this user", spec->uid, spec->gid);
    }
  if (why != NULL)
    {
      g_clear_pointer (&plan->newuidmap, g_free);
      g_clear_pointer (&plan->newgidmap, g_free);
      sbx_util_close_fdp (&plan->newuidmap_fd);
      sbx_util_close_fdp (&plan->newgidmap_fd);
    }
  if (plan->newuidmap == NULL)
    {
      g_clear_pointer (&uid_ranges, g_array_unref);
      g_clear_pointer (&gid_ranges, g_array_unref);
    }
  plan->uid_lines = sbx_userns_build_map (spec->identity, spec->uid, uid_ranges);
  plan->gid_lines = sbx_userns_build_map (spec->identity, spec->gid, gid_ranges);
  plan->uid_ranges = g_steal_pointer (&uid_ranges);
  plan->gid_ranges = g_steal_pointer (&gid_ranges);
  return g_steal_pointer (&plan);
}

/* Starts `helper PID inside outside count ...` without waiting for it. */
static gboolean
spawn_map_helper (const char *helper, int helper_fd, pid_t pid, const GArray *lines,
                  pid_t *helper_pid, GError **error)
{
  g_autoptr (GPtrArray) argv = g_ptr_array_new_with_free_func (g_free);

  g_ptr_array_add (argv, g_strdup (helper));
  g_ptr_array_add (argv, g_strdup_printf ("%d", (int)pid));
  for (guint i = 0; i < lines->len; i++)
    {
      const SbxIdMapLine *l = &g_array_index (lines, SbxIdMapLine, i);
      g_ptr_array_add (argv, g_strdup_printf ("%u", l->inside));
      g_ptr_array_add (argv, g_strdup_printf ("%u", l->outside));
      g_ptr_array_add (argv, g_strdup_printf ("%u", l->count));
    }
  g_ptr_array_add (argv, NULL);

  SbxHelper h = {
    .exe = helper_fd,
    .name = helper,
    .argv = (char *const *)argv->pdata,
    .join_pidfd = -1,
  };
  *helper_pid = sbx_helper_spawn (&h, NULL, error);
  return *helper_pid > 0;
}

static gboolean
wait_map_helper (const char *helper, pid_t helper_pid, GError **error)
{
  int status;
  while (waitpid (helper_pid, &status, 0) < 0)
    if (errno != EINTR)
      {
        g_set_error (error, G_FILE_ERROR, G_FILE_ERROR_FAILED, "waiting for %s: %s", helper,
                     sbx_util_strerror (errno));
        return FALSE;
      }
  if (WIFEXITED (status) && WEXITSTATUS (status) == 0)
    return TRUE;
  g_set_error (error, G_FILE_ERROR, G_FILE_ERROR_FAILED, "%s failed (%s %d); check /etc/%s", helper,
               WIFEXITED (status) ? "exit status" : "signal",
               WIFEXITED (status) ? WEXITSTATUS (status) : WTERMSIG (status),
               strstr (helper, "gid") != NULL ? "subgid" : "subuid");
  return FALSE;
}

/* Writes gid_map, then uid_map, in the /proc/PID directory @dirfd; NULL, or
 * the name of the one that failed (errno set).  System calls only. */
static const char *
write_maps_at (int dirfd, const char *uid_map, const char *gid_map)
{
  if (!sbx_util_write_file_at (dirfd, "gid_map", gid_map))
    return "gid_map";
  if (!sbx_util_write_file_at (dirfd, "uid_map", uid_map))
    return "uid_map";
  return NULL;
}

/* The fallback: one line each, written by the monitor itself.  setgroups must
 * be denied before gid_map is written, or an unprivileged writer is refused
 * (CVE-2014-8989: dropping groups could grant access that a group denies). */
static gboolean
write_single_maps (const SbxIdMapPlan *plan, pid_t pid, GError **error)
{
  g_autofree char *dir = g_strdup_printf ("/proc/%d", (int)pid);
  cleanup_fd int dirfd = open (dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
  g_autofree char *gid_map = sbx_userns_format_map (plan->gid_lines);
  g_autofree char *uid_map = sbx_userns_format_map (plan->uid_lines);
  const char *failed = NULL;

  if (dirfd < 0)
    failed = dir;
  else if (!sbx_util_write_file_at (dirfd, "setgroups", "deny") && errno != ENOENT)
    failed = "setgroups";
  else
    failed = write_maps_at (dirfd, uid_map, gid_map);
  if (failed == NULL)
    return TRUE;
  g_set_error (error, G_FILE_ERROR, g_file_error_from_errno (errno),
               "cannot write %s of pid %d: %s", failed, (int)pid, sbx_util_strerror (errno));
  return FALSE;
}

gboolean
sbx_userns_write_maps_directly (pid_t pid, const char *uid_map, const char *gid_map)
{
  char dir[32];
  snprintf (dir, sizeof dir, "/proc/%d", (int)pid);
  cleanup_fd int dirfd = open (dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
  return dirfd >= 0 && write_maps_at (dirfd, uid_map, gid_map) == NULL;
}

struct SbxMapWrite
{
  const SbxIdMapPlan *plan;
  pid_t gid_helper, uid_helper; /* -1: not running */
  GError *error;                /* the fallback's failure, or a spawn's */
};

SbxMapWrite *
sbx_userns_start_maps (const SbxIdMapPlan *plan, pid_t pid)
{
  SbxMapWrite *w = g_new0 (SbxMapWrite, 1);
  w->plan = plan;
  w->gid_helper = w->uid_helper = -1;
  if (plan->newuidmap == NULL)
    {
      write_single_maps (plan, pid, &w->error);
      return w;
    }

  /* The two run at once: they are the longest step of a start (a setuid
   * program takes a millisecond), and nothing orders them.  Each writes its
   * own file, as a privileged writer outside the namespace, and the kernel
   * orders neither uid_map and gid_map nor setgroups (left allowed) for such
   * a writer; STYLE.md's gid-before-uid is for a writer that loses its
   * standing on the way, our single-mapping fallback (write_single_maps).
   * If one fails, the child is killed before it is released (monitor.c):
   * a uid map written alone never reaches the command.  See
   * docs/decisions.md. */
  if (spawn_map_helper (plan->newgidmap, plan->newgidmap_fd, pid, plan->gid_lines, &w->gid_helper,
                        &w->error))
    spawn_map_helper (plan->newuidmap, plan->newuidmap_fd, pid, plan->uid_lines, &w->uid_helper,
                      &w->error);
  return w;
}

gboolean
sbx_userns_finish_maps (SbxMapWrite *w, GError **error)
{
  gboolean ok = w->error == NULL;
  /* Both are waited for, whatever happened: no helper outlives this. */
  if (w->gid_helper > 0
      && !wait_map_helper (w->plan->newgidmap, w->gid_helper, ok ? &w->error : NULL))
    ok = FALSE;
  if (w->uid_helper > 0
      && !wait_map_helper (w->plan->newuidmap, w->uid_helper, ok ? &w->error : NULL))
    ok = FALSE;
  if (!ok)
    g_propagate_error (error, g_steal_pointer (&w->error));
  g_free (w);
  return ok;
}

gboolean
sbx_userns_write_maps (const SbxIdMapPlan *plan, pid_t pid, GError **error)
{
  return sbx_userns_finish_maps (sbx_userns_start_maps (plan, pid), error);
}

pid_t
sbx_userns_spawn_mapped (const SbxSpec *caller, int (*func) (gpointer data), gpointer data,
                         GError **error)
{
  SbxSpec as_root = *caller;
  as_root.identity = SBX_ID_ROOT;
  g_autoptr (SbxIdMapPlan) plan = sbx_userns_plan (&as_root);
  int go[2];

  if (pipe2 (go, O_CLOEXEC) < 0)
    {
      g_set_error (error, G_FILE_ERROR, g_file_error_from_errno (errno), "pipe: %s",
                   sbx_util_strerror (errno));
      return -1;
    }
  pid_t parent = getpid ();
  pid_t pid = sbx_util_clone3 (CLONE_NEWUSER, NULL);
  if (pid == 0)
    {
      char c;
      close (go[1]);
      /* Nothing happens until the maps are written: before that every file
       * would look unowned.  It ends with us (it may wait for our
       * requests), checked after setting it in case we just went. */
      if (read (go[0], &c, 1) != 1 || prctl (PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) < 0
          || getppid () != parent)
        _exit (SBX_EXIT_FAILURE);
      _exit (func (data));
    }
  close (go[0]);
  if (pid < 0)
    {
      close (go[1]);
      g_set_error (error, G_FILE_ERROR, g_file_error_from_errno (errno),
                   "cannot create a user namespace: %s", sbx_util_strerror (errno));
      return -1;
    }
  gboolean mapped = sbx_userns_write_maps (plan, pid, error);
  if (mapped)
    sbx_util_write_all (go[1], "x", 1);
  close (go[1]);
  if (mapped)
    return pid;
  while (waitpid (pid, NULL, 0) < 0 && errno == EINTR)
    ;
  return -1;
}

int
sbx_userns_run_mapped (const SbxSpec *caller, int (*func) (gpointer data), gpointer data,
                       GError **error)
{
  pid_t pid = sbx_userns_spawn_mapped (caller, func, data, error);
  int status;
  if (pid < 0)
    return -1;
  while (waitpid (pid, &status, 0) < 0)
    if (errno != EINTR)
      break;
  return status;
}
