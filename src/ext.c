/* SPDX-License-Identifier: GPL-2.0-or-later */
/* ext.c: loading the part of sbx that is needed only by some commands. */
#include "config.h"

#include "ext.h"

#include <dlfcn.h>
#include <string.h>
#include <unistd.h>

char *
sbx_util_find_companion (const char *name, const char *installed_dir)
{
  /* Only the sbx of the build tree takes its companions from there: an
   * installed sbx never runs what a stale or foreign path may hold. */
  g_autofree char *self = g_file_read_link ("/proc/self/exe", NULL);
  g_autofree char *dir = self != NULL ? g_path_get_dirname (self) : NULL;
  if (dir != NULL && strcmp (dir, SBX_BUILD_SRC_DIR) == 0)
    {
      const char *const dirs[] = { SBX_BUILD_SRC_DIR, SBX_BUILD_HELPERS_DIR };
      for (guint i = 0; i < G_N_ELEMENTS (dirs); i++)
        {
          g_autofree char *built = g_build_filename (dirs[i], name, NULL);
          if (access (built, R_OK) == 0)
            return g_steal_pointer (&built);
        }
    }
  g_autofree char *installed = g_build_filename (installed_dir, name, NULL);
  if (access (installed, R_OK) == 0)
    return g_steal_pointer (&installed);
  return NULL;
}

const SbxExt *
sbx_ext_load (GError **error)
{
  static const SbxExt *ext;

  if (ext != NULL)
    return ext;
  g_autofree char *path = sbx_util_find_companion ("sbx-ext.so", SBX_PKGLIBDIR);
  if (path == NULL)
    {
      g_set_error (error, G_FILE_ERROR, G_FILE_ERROR_NOENT, "sbx-ext.so not found in %s",
                   SBX_PKGLIBDIR);
      return NULL;
    }
  /* RTLD_LOCAL: its libraries stay out of the global symbol namespace. */
  void *handle = dlopen (path, RTLD_NOW | RTLD_LOCAL);
  const SbxExt *table = handle != NULL ? dlsym (handle, SBX_EXT_SYMBOL) : NULL;
  if (table == NULL || table->abi != SBX_EXT_ABI)
    {
      g_set_error (error, G_FILE_ERROR, G_FILE_ERROR_FAILED, "cannot load %s: %s", path,
                   handle == NULL ? dlerror () : "not the same version as sbx");
      return NULL;
    }
  ext = table;
  return ext;
}
