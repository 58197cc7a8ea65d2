/* SPDX-License-Identifier: GPL-2.0-or-later */
/* userns.h: subordinate id ranges, id maps, newuidmap/newgidmap and the
 * single-mapping fallback. */
#pragma once

#include "spec.h"

#include <glib.h>
#include <sys/types.h>

typedef struct
{
  guint32 start;
  guint32 count;
} SbxIdRange;

typedef struct
{
  guint32 inside;
  guint32 outside;
  guint32 count;
} SbxIdMapLine;

/* How the ids of one sandbox are mapped; decided before the clone. */
typedef struct
{
  GArray *uid_lines; /* SbxIdMapLine */
  GArray *gid_lines;
  GArray *uid_ranges; /* SbxIdRange: the caller's subordinate ranges, or NULL */
  GArray *gid_ranges;
  uid_t uid; /* the caller's ids on the host */
  gid_t gid;
  char *newuidmap; /* NULL: single mapping, written directly */
  char *newgidmap;
  int newuidmap_fd; /* ... opened once found (helper.h), or -1 */
  int newgidmap_fd;
  uid_t inside_uid; /* the caller's ids as seen inside */
  gid_t inside_gid;
} SbxIdMapPlan;

void sbx_userns_plan_free (SbxIdMapPlan *plan);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (SbxIdMapPlan, sbx_userns_plan_free)

/* The ranges granted to @user (or the numeric @id) in the contents of an
 * /etc/subuid-style file: sorted, overlaps and neighbours merged, and @id
 * itself cut out (it is mapped separately). */
GArray *sbx_userns_parse_subids (const char *contents, const char *user, guint32 id);

/* The map lines for @identity given the caller's @id and subordinate @ranges
 * (may be empty: single mapping). */
GArray *sbx_userns_build_map (SbxIdentity identity, guint32 id, const GArray *ranges);

/* "inside outside count\n" per line, as /proc/PID/uid_map wants it. */
char *sbx_userns_format_map (const GArray *lines);

/* Where the setuid helper @name (newuidmap, newgidmap) is: only an absolute
 * path from PATH, else /usr/bin; NULL when it is in neither. */
char *sbx_userns_find_helper (const char *name);

/* Reads /etc/subuid and /etc/subgid and finds the helpers; falls back to a
 * single mapping (with one warning unless --no-subids asked for it). */
SbxIdMapPlan *sbx_userns_plan (const SbxSpec *spec);

/* Writes the maps of the child @pid: newgidmap/newuidmap, or setgroups=deny
 * and the single lines directly. */
gboolean sbx_userns_write_maps (const SbxIdMapPlan *plan, pid_t pid, GError **error);
/* Writes @gid_map to /proc/@pid/gid_map, then @uid_map (formatted by
 * sbx_userns_format_map()), leaving setgroups as it is: for a writer with
 * CAP_SETUID and CAP_SETGID in the parent of @pid's user namespace
 * (holder.c).  System calls only: it runs in a forked child. */
gboolean sbx_userns_write_maps_directly (pid_t pid, const char *uid_map, const char *gid_map);

/* The same in two steps, for work in between: start_maps starts the helpers
 * (or writes the single lines), finish_maps waits for them, says whether
 * the maps were written and frees @w.  Every start needs its finish. */
typedef struct SbxMapWrite SbxMapWrite;
SbxMapWrite *sbx_userns_start_maps (const SbxIdMapPlan *plan, pid_t pid);
gboolean sbx_userns_finish_maps (SbxMapWrite *w, GError **error);

/* Runs @func(@data) in a child process that is root in a new user namespace
 * where the caller's id and subordinate ranges are mapped (as --map-root):
 * it can then read and remove files a sandbox created with subordinate ids,
 * which the caller cannot touch on the host.  Returns the child's wait
 * status, or -1 with @error. */
int sbx_userns_run_mapped (const SbxSpec *caller, int (*func) (gpointer data), gpointer data,
                           GError **error);

/* The same without waiting: returns the child's pid (to be waited for),
 * or -1 with @error.  The child dies with the caller. */
pid_t sbx_userns_spawn_mapped (const SbxSpec *caller, int (*func) (gpointer data), gpointer data,
                               GError **error);
