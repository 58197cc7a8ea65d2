/* SPDX-License-Identifier: GPL-2.0-or-later */
/* profile.h: `sbx run --profile NAME`, defaults for `sbx run` from a key
 * file (sbx.conf(5)). */
#pragma once

#include "spec.h"

#include <glib.h>

/* Where the profile @name lives: $XDG_CONFIG_HOME/sbx/NAME.conf. */
char *sbx_profile_path (const char *name);

/* Applies the [run] group of the profile @name to @spec through the same
 * setters as the command line, so that a value is accepted or refused
 * exactly as the option would be.  Only a regular file of at most 1 MiB
 * is read; a line that is no key=value, [group] or comment, a key given
 * twice, an unknown key or group and a bad value are errors
 * (SBX_SPEC_ERROR_PROFILE) reading "PATH:LINE: key: what".  @origins, if
 * not NULL, gets "PATH:LINE" for each key applied (for the messages of
 * validation, which comes later); a mount from the profile carries it in
 * its own option text. */
gboolean sbx_profile_load (SbxSpec *spec, const char *name, GHashTable *origins, GError **error);
