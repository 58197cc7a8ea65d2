/* SPDX-License-Identifier: GPL-2.0-or-later */
/* ext.c: loading the part of sbx that is needed only by some commands. */
#include "config.h"

#include "ext.h"

#include <dlfcn.h>
#include <unistd.h>

char *
sbx_util_find_companion (const char *name, const char *installed_dir)
{
  g_autofree char *self = g_file_read_link ("/proc/self/exe", NULL);
  if (self != NULL)
    {
      g_autofree char *dir = g_path_get_dirname (self);
      g_autofree char *beside = g_build_filename (dir, name, NULL);
      if (access (beside, R_OK) == 0)
        return g_steal_pointer (&beside);
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
