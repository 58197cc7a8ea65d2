/* SPDX-License-Identifier: GPL-2.0-or-later */
/* layer.c: a kept layer as `sbx diff` and `sbx apply` read it (layer.h). */
#include "config.h"

#include "layer.h"
#include "diff.h"
#include "userns.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <signal.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <unistd.h>

/* Resolution below the layer: never above its upper directory, never
 * through a symlink (its own or a magic one). */
#define BENEATH (RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS)

/* The reader's protocol, on a SOCK_SEQPACKET pair of its own (sbx_msg_*,
 * with types of its own, apart from the monitor's): */
#define MSG_READY                                                                                  \
  ((SbxMsgType)100)                   /* reader: scanned; value = bytes in the memfd, code = errno \
                                       */
#define MSG_OPEN    ((SbxMsgType)101) /* sbx: the file of change @value, please */
#define MSG_FILE    ((SbxMsgType)102) /* reader: here (SCM_RIGHTS), or code = errno */
#define MSG_APPLIED ((SbxMsgType)103) /* sbx: change @value is on the host now */
#define MSG_FORGET  ((SbxMsgType)104) /* sbx: remove the applied ones from the layer */
#define MSG_FORGOTTEN                                                                              \
  ((SbxMsgType)105) /* reader: done; code = how many failed, text = the first                      \
                     */

void
sbx_layer_source_free (SbxLayerSource *source)
{
  if (source == NULL)
    return;
  g_free (source->name);
  g_free (source->dir);
  g_free (source->upper);
  g_strfreev (source->lowers);
  sbx_layer_record_clear (&source->record);
  g_free (source);
}

/* What the layer is compared with: @given (--lower), else what it ran on
 * (its --layer dirs highest first, then --rootfs), else the host's /. */
static void
set_lowers (SbxLayerSource *s, const char *const *given)
{
  GPtrArray *v = g_ptr_array_new ();
  if (given != NULL && given[0] != NULL)
    for (const char *const *l = given; *l != NULL; l++)
      g_ptr_array_add (v, g_strdup (*l));
  else
    {
      for (guint i = s->record.layers != NULL ? g_strv_length (s->record.layers) : 0; i > 0; i--)
        g_ptr_array_add (v, g_strdup (s->record.layers[i - 1]));
      g_ptr_array_add (v, g_strdup (s->record.rootfs != NULL ? s->record.rootfs : "/"));
    }
  s->over_host = v->len == 1 && strcmp (v->pdata[0], "/") == 0;
  g_ptr_array_add (v, NULL);
  s->lowers = (char **)g_ptr_array_free (v, FALSE);
}

SbxLayerSource *
sbx_layer_source_new (const char *name, const char *upper, const char *const *lowers,
                      GError **error)
{
  g_autoptr (SbxLayerSource) s = g_new0 (SbxLayerSource, 1);
  if (name != NULL)
    {
      g_autoptr (SbxSandboxInfo) info = sbx_state_lookup (name, error);
      if (info == NULL)
        return NULL;
      if (info->upper == NULL)
        {
          g_set_error (error, G_FILE_ERROR, G_FILE_ERROR_NOENT, "%s has no kept layer", name);
          return NULL;
        }
      s->name = g_strdup (name);
      s->upper = g_strdup (info->upper);
      s->dir = g_path_get_dirname (info->upper);
    }
  else
    {
      struct stat st;
      int errsv = stat (upper, &st) < 0 ? errno : !S_ISDIR (st.st_mode) ? ENOTDIR : 0;
      if (errsv != 0)
        {
          g_set_error (error, G_FILE_ERROR, g_file_error_from_errno (errsv), "%s: %s", upper,
                       sbx_util_strerror (errsv));
          return NULL;
        }
      /* A layer kept by `sbx run --upper DIR` lies in DIR/upper. */
      g_autofree char *inner = g_build_filename (upper, "upper", NULL);
      g_autofree char *work = g_build_filename (upper, "work", NULL);
      g_autofree char *parent = g_path_get_dirname (upper);
      g_autofree char *base = g_path_get_basename (upper);
      g_autofree char *sibling = g_build_filename (parent, "work", NULL);
      if (g_file_test (inner, G_FILE_TEST_IS_DIR) && g_file_test (work, G_FILE_TEST_IS_DIR))
        {
          s->upper = g_steal_pointer (&inner);
          s->dir = g_strdup (upper);
        }
      else if (strcmp (base, "upper") == 0 && g_file_test (sibling, G_FILE_TEST_IS_DIR))
        {
          /* DIR/upper itself: the layer of DIR all the same (its record,
           * its lock). */
          s->upper = g_strdup (upper);
          s->dir = g_steal_pointer (&parent);
        }
      else
        s->upper = g_strdup (upper);
    }
  if (s->dir != NULL)
    sbx_state_read_layer_record (s->dir, &s->record);
  set_lowers (s, lowers);
  return g_steal_pointer (&s);
}

/* ---- the reader, in the mapped user namespace --------------------------------- */

typedef struct
{
  const char *upper;
  const char *const *lowers;
  int sock; /* ours */
  int peer; /* sbx's end, closed here */
  int out;  /* memfd for the changes */
} Reader;

/* The regular file of @c, opened below @top without following a symlink,
 * and the one the scan saw. */
static int
open_entry (int top, const SbxChange *c)
{
  if (c->upper_rel[0] == '\0' || !S_ISREG (c->mode))
    {
      errno = EINVAL;
      return -1;
    }
  int fd = sbx_util_openat2 (top, c->upper_rel,
                             O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC, BENEATH);
  struct stat st;
  if (fd >= 0
      && (fstat (fd, &st) < 0 || !S_ISREG (st.st_mode) || st.st_dev != c->dev
          || st.st_ino != c->ino))
    {
      close (fd);
      errno = ESTALE; /* replaced since the scan */
      return -1;
    }
  return fd;
}

/* Opens the directory holding @c's entry below @top; *@name: the entry's
 * name in it. */
static int
open_parent (int top, const SbxChange *c, char **name)
{
  g_autofree char *parent = g_path_get_dirname (c->upper_rel);
  *name = g_path_get_basename (c->upper_rel);
  return sbx_util_openat2 (top, strcmp (parent, ".") == 0 ? "" : parent,
                           O_PATH | O_DIRECTORY | O_CLOEXEC, BENEATH);
}

/* Removes @c's entry from the layer, when it is still the one the scan
 * saw; a directory only when empty (ENOTEMPTY is no failure). */
static gboolean
remove_entry (int top, const SbxChange *c)
{
  g_autofree char *name = NULL;
  cleanup_fd int parent = open_parent (top, c, &name);
  struct stat st;
  if (parent < 0 || fstatat (parent, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
    return errno == ENOENT;
  if (st.st_dev != c->dev || st.st_ino != c->ino)
    {
      errno = ESTALE;
      return FALSE;
    }
  if (unlinkat (parent, name, S_ISDIR (st.st_mode) ? AT_REMOVEDIR : 0) == 0)
    return TRUE;
  return errno == ENOTEMPTY || errno == EEXIST || errno == ENOENT;
}

/* Takes the opaque marks off the directory of @c: the lower directory it
 * hid holds nothing any more that the layer does not. */
static gboolean
clear_opaque (int top, const SbxChange *c)
{
  static const char *const xattrs[]
      = { "trusted.overlay.opaque", "user.overlay.opaque", "user.fuseoverlayfs.opaque" };
  cleanup_fd int dir = sbx_util_openat2 (top, c->upper_rel,
                                         O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC, BENEATH);
  struct stat st;
  if (dir < 0 || fstat (dir, &st) < 0 || st.st_ino != c->ino || st.st_dev != c->dev)
    return FALSE;
  gboolean ok = TRUE;
  for (guint i = 0; i < G_N_ELEMENTS (xattrs); i++)
    if (fremovexattr (dir, xattrs[i]) < 0 && errno != ENODATA && errno != ENOTSUP
        && !(errno == EPERM && i == 0))
      ok = FALSE; /* trusted.*: only the host's root sets (and may remove) it */
  if ((unlinkat (dir, ".wh..wh..opq", 0) < 0 && errno != ENOENT)
      || (unlinkat (dir, ".wh..opq", 0) < 0 && errno != ENOENT))
    ok = FALSE;
  return ok;
}

/* The index of the change at @path, or -1. */
static int
find (GHashTable *by_path, const char *path)
{
  gpointer v;
  return g_hash_table_lookup_extended (by_path, path, NULL, &v) ? GPOINTER_TO_INT (v) : -1;
}

/* Whether an ancestor of @path is a directory that stays opaque. */
static gboolean
below_opaque (GPtrArray *changes, GHashTable *by_path, const gboolean *stays, const char *path)
{
  g_autofree char *p = g_path_get_dirname (path);
  while (strcmp (p, "/") != 0)
    {
      int j = find (by_path, p);
      if (j >= 0 && stays[j])
        return TRUE;
      char *up = g_path_get_dirname (p);
      g_free (p);
      p = up;
    }
  (void)changes;
  return FALSE;
}

/* Removes what was applied (layer.h); returns how many failed, with the
 * first failure in *@why. */
static guint
forget (int top, GPtrArray *changes, const gboolean *applied, char **why)
{
  guint n = changes->len, failed = 0;
  g_autoptr (GHashTable) by_path = g_hash_table_new (g_str_hash, g_str_equal);
  g_autofree gboolean *stays = g_new0 (gboolean, n);
  for (guint i = 0; i < n; i++)
    g_hash_table_insert (by_path, ((SbxChange *)changes->pdata[i])->path, GINT_TO_POINTER (i));

  /* An opaque directory stays so unless it is on the host and every lower
   * entry it hid is gone from there. */
  for (guint i = 0; i < n; i++)
    {
      const SbxChange *c = changes->pdata[i];
      if (c->flags & SBX_CHANGE_OPAQUE)
        stays[i] |= !applied[i];
      if ((c->flags & SBX_CHANGE_HIDDEN) && !applied[i])
        {
          g_autofree char *parent = g_path_get_dirname (c->path);
          int j = find (by_path, parent);
          if (j >= 0)
            stays[j] = TRUE;
        }
    }
  /* Deepest first: a directory after everything below it. */
  for (guint k = n; k > 0; k--)
    {
      guint i = k - 1;
      const SbxChange *c = changes->pdata[i];
      if (!applied[i] || (c->flags & SBX_CHANGE_HIDDEN)
          || below_opaque (changes, by_path, stays, c->path))
        continue;
      gboolean ok = TRUE;
      if (S_ISDIR (c->mode) && (c->flags & SBX_CHANGE_OPAQUE))
        {
          if (stays[i])
            continue;
          ok = clear_opaque (top, c);
        }
      ok = ok && remove_entry (top, c);
      if (!ok)
        {
          if (*why == NULL)
            *why = g_strdup_printf ("%s: %s", c->path, sbx_util_strerror (errno));
          failed++;
        }
    }
  return failed;
}

static int
reader_main (gpointer data)
{
  Reader *r = data;
  SbxMsg msg;
  close (r->peer);
  /* Nothing of the caller's terminal is for us. */
  cleanup_fd int top = open (r->upper, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (top < 0)
    {
      sbx_msg_send (r->sock, MSG_READY, errno, 0, NULL, -1);
      return 1;
    }
  g_autoptr (GPtrArray) changes = sbx_diff_scan_fd (top, r->lowers);
  g_autoptr (GBytes) bytes = sbx_diff_serialize (changes);
  gsize size;
  const void *p = g_bytes_get_data (bytes, &size);
  if (!sbx_util_write_all (r->out, p, size))
    {
      sbx_msg_send (r->sock, MSG_READY, errno, 0, NULL, -1);
      return 1;
    }
  sbx_msg_send (r->sock, MSG_READY, 0, (gint64)size, NULL, -1);

  g_autofree gboolean *applied = g_new0 (gboolean, changes->len + 1);
  int fd;
  while (sbx_msg_recv (r->sock, &msg, &fd, NULL))
    {
      sbx_util_close_fdp (&fd); /* sbx sends none */
      gboolean in_range = msg.value >= 0 && msg.value < (gint64)changes->len;
      switch (msg.type)
        {
        case MSG_OPEN:
          {
            cleanup_fd int file = in_range ? open_entry (top, changes->pdata[msg.value]) : -1;
            int errsv = in_range ? errno : EINVAL;
            if (!sbx_msg_send (r->sock, MSG_FILE, file < 0 ? errsv : 0, msg.value, NULL, file))
              return 1;
            break;
          }
        case MSG_APPLIED:
          if (in_range)
            applied[msg.value] = TRUE;
          break;
        case MSG_FORGET:
          {
            g_autofree char *why = NULL;
            guint failed = forget (top, changes, applied, &why);
            if (!sbx_msg_send (r->sock, MSG_FORGOTTEN, (gint32)failed, 0, why, -1))
              return 1;
            break;
          }
        default:
          return 1;
        }
    }
  return 0;
}

/* ---- sbx's side --------------------------------------------------------------------- */

struct SbxLayer
{
  pid_t pid;
  int sock;
  char *upper; /* for messages */
  GPtrArray *changes;
};

GPtrArray *
sbx_layer_changes (SbxLayer *layer)
{
  return layer->changes;
}

void
sbx_layer_close (SbxLayer *layer)
{
  if (layer == NULL)
    return;
  /* EOF ends the reader. */
  sbx_util_close_fdp (&layer->sock);
  if (layer->pid > 0)
    while (waitpid (layer->pid, NULL, 0) < 0 && errno == EINTR)
      ;
  g_clear_pointer (&layer->changes, g_ptr_array_unref);
  g_free (layer->upper);
  g_free (layer);
}

SbxLayer *
sbx_layer_open (const SbxSpec *caller, const SbxLayerSource *source, GError **error)
{
  int sv[2];
  if (socketpair (AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
    {
      g_set_error (error, G_FILE_ERROR, g_file_error_from_errno (errno), "socketpair: %s",
                   sbx_util_strerror (errno));
      return NULL;
    }
  g_autoptr (SbxLayer) layer = g_new0 (SbxLayer, 1);
  layer->sock = sv[0];
  layer->upper = g_strdup (source->upper);
  /* The changes go to a memfd rather than the socket: there may be more
   * of them than a message holds. */
  cleanup_fd int out = memfd_create ("sbx-layer", MFD_CLOEXEC);
  if (out < 0)
    {
      close (sv[1]);
      g_set_error (error, G_FILE_ERROR, g_file_error_from_errno (errno), "memfd_create: %s",
                   sbx_util_strerror (errno));
      return NULL;
    }
  Reader r = { .upper = source->upper,
               .lowers = (const char *const *)source->lowers,
               .sock = sv[1],
               .peer = sv[0],
               .out = out };
  layer->pid = sbx_userns_spawn_mapped (caller, reader_main, &r, error);
  close (sv[1]);
  if (layer->pid < 0)
    return NULL;

  SbxMsg msg;
  if (!sbx_msg_recv (layer->sock, &msg, NULL, NULL) || msg.type != MSG_READY)
    {
      g_set_error (error, G_FILE_ERROR, G_FILE_ERROR_FAILED, "cannot read the layer %s",
                   source->upper);
      return NULL;
    }
  if (msg.code != 0)
    {
      g_set_error (error, G_FILE_ERROR, g_file_error_from_errno (msg.code), "%s: %s", source->upper,
                   sbx_util_strerror (msg.code));
      return NULL;
    }
  gsize size = msg.value > 0 ? (gsize)msg.value : 0;
  g_autofree char *buf = g_malloc (size > 0 ? size : 1);
  if (size > 0 && pread (out, buf, size, 0) != (ssize_t)size)
    {
      g_set_error (error, G_FILE_ERROR, G_FILE_ERROR_IO, "cannot read the changes of %s",
                   source->upper);
      return NULL;
    }
  g_autoptr (GBytes) bytes = g_bytes_new_take (g_steal_pointer (&buf), size);
  layer->changes = sbx_diff_deserialize (bytes, error);
  if (layer->changes == NULL)
    {
      g_prefix_error (error, "%s: ", source->upper);
      return NULL;
    }
  return g_steal_pointer (&layer);
}

int
sbx_layer_open_file (SbxLayer *layer, guint index, GError **error)
{
  SbxMsg msg;
  int fd = -1;
  if (!sbx_msg_send (layer->sock, MSG_OPEN, 0, index, NULL, -1)
      || !sbx_msg_recv (layer->sock, &msg, &fd, NULL) || msg.type != MSG_FILE
      || msg.value != (gint64)index)
    {
      sbx_util_close_fdp (&fd);
      g_set_error (error, G_FILE_ERROR, G_FILE_ERROR_FAILED, "the reader of %s went away",
                   layer->upper);
      return -1;
    }
  struct stat st;
  if (fd >= 0 && msg.code == 0 && fstat (fd, &st) == 0 && S_ISREG (st.st_mode))
    return fd;
  sbx_util_close_fdp (&fd);
  int errsv = msg.code != 0 ? msg.code : EINVAL;
  g_set_error (error, G_FILE_ERROR, g_file_error_from_errno (errsv), "%s",
               errsv == ESTALE ? "the layer's file changed since it was read"
                               : sbx_util_strerror (errsv));
  return -1;
}

gboolean
sbx_layer_forget (SbxLayer *layer, GArray *indices, guint *failed, GError **error)
{
  SbxMsg msg;
  *failed = 0;
  for (guint i = 0; i < indices->len; i++)
    if (!sbx_msg_send (layer->sock, MSG_APPLIED, 0, g_array_index (indices, guint, i), NULL, -1))
      break;
  if (!sbx_msg_send (layer->sock, MSG_FORGET, 0, 0, NULL, -1)
      || !sbx_msg_recv (layer->sock, &msg, NULL, NULL) || msg.type != MSG_FORGOTTEN)
    {
      g_set_error (error, G_FILE_ERROR, G_FILE_ERROR_FAILED, "the reader of %s went away",
                   layer->upper);
      return FALSE;
    }
  *failed = msg.code > 0 ? (guint)msg.code : 0;
  if (*failed > 0)
    {
      g_set_error (error, G_FILE_ERROR, G_FILE_ERROR_FAILED, "%s", msg.text);
      return FALSE;
    }
  return TRUE;
}
