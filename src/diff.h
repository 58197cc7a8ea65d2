/* SPDX-License-Identifier: GPL-2.0-or-later */
/* diff.h: what a writable layer added, changed and deleted. */
#pragma once

#include <glib.h>
#include <sys/stat.h>
#include <sys/types.h>

typedef enum
{
  /* A directory of the layer that hides the lower one (a directory
   * replaced: `rm -rf d; mkdir d`, or made by fuse-overlayfs). */
  SBX_CHANGE_OPAQUE = 1 << 0,
  /* A D: a lower entry an opaque directory of the layer hides (no whiteout
   * of its own). */
  SBX_CHANGE_HIDDEN = 1 << 1,
  /* A directory of the lower layer whose mode the sandbox changed (not one
   * of an owner nobody maps: see diff.c). */
  SBX_CHANGE_DIR_MODE = 1 << 2,
} SbxChangeFlags;

/* One change of a layer, with what `sbx diff -p` and `sbx apply` need of
 * the layer's entry.  Ids and times are as the scan saw them: in the user
 * namespace where the caller's ranges are mapped (the caller is 0 there). */
typedef struct
{
  char kind;       /* 'A' added, 'C' changed, 'D' deleted */
  char *path;      /* absolute, as the sandbox saw it */
  char *upper_rel; /* the layer's entry for it (the file, or the whiteout),
                    * relative to the upper directory; "" for a HIDDEN D */
  guint flags;     /* SbxChangeFlags */
  guint32 mode;    /* the layer entry's st_mode (A, C); 0 for a D */
  guint32 uid, gid;
  guint64 size;
  gint64 mtime_sec;
  guint32 mtime_nsec;
  /* When the sandbox made the layer's entry (the copy-up, the new file, the
   * whiteout; for a HIDDEN D its opaque directory): its birth time, when
   * the filesystem of the layer keeps one. */
  gboolean has_btime;
  gint64 btime_sec;
  guint32 btime_nsec;
  guint64 dev, ino, nlink; /* of the layer's entry (the whiteout for a D) */
  char *target;            /* a symlink's target, else NULL */
  char *xattrs; /* extended attributes of the entry besides the overlay's own, ", "-separated, or
                   NULL */
  gint32 lower; /* index of the lower layer holding @path, -1: none */
  guint32 lower_mode; /* its st_mode then */
} SbxChange;

void sbx_change_free (SbxChange *change);

/* The changes recorded in the overlay upper directory @upper over the lower
 * layers @lowers (the host's / when empty), sorted by path.  Whiteouts of
 * both drivers are read: 0/0 character devices (kernel overlay) and `.wh.`
 * files (fuse-overlayfs without mknod), and opaque directories marked by the
 * trusted./user.overlay.opaque or user.fuseoverlayfs.opaque xattrs or a
 * `.wh..wh..opq` file.  The upper is read through fds, never by a path
 * below it; run in the user namespace where the caller's ranges are mapped
 * (layer.c), so that files owned by subordinate ids can be read. */
GPtrArray *sbx_diff_scan_here (const char *upper, const char *const *lowers);

/* The same over the upper directory open as @top (not closed). */
GPtrArray *sbx_diff_scan_fd (int top, const char *const *lowers);

/* The changes as one serialized GVariant, and back; the reader checks the
 * type and every field, as from any process. */
GBytes *sbx_diff_serialize (GPtrArray *changes);
GPtrArray *sbx_diff_deserialize (GBytes *bytes, GError **error);

/* @prefix then @name as one word for a line of output: as it is, or, when
 * it holds a control character (a newline, an escape...), `"`, `\` or is not
 * UTF-8, in double quotes with C escapes, as git quotes names ("a\nb").
 * A name can never break a line of sbx's output or drive the terminal. */
char *sbx_diff_quote (const char *prefix, const char *name);

/* The entry @path (absolute) of the lower layer whose root is the fd
 * @lower, looked up as overlayfs does: one component at a time, no symlink
 * followed on the way.  Returns an O_PATH fd of its directory, with its
 * name there in *@name and its lstat in *@st; -1 when it has none. */
int sbx_diff_open_lower (int lower, const char *path, char **name, struct stat *st);

/* Whether @path is @filter or below it (both absolute and canonical). */
gboolean sbx_diff_path_under (const char *path, const char *filter);
