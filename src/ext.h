/* SPDX-License-Identifier: GPL-2.0-or-later */
/* ext.h: the part of sbx loaded only when needed (json-glib output, GDBus
 * to the systemd user manager).
 *
 * Linking json-glib (and through it gio and gobject) into sbx costs every
 * `sbx run` about 0.6 ms of dynamic loading, a sixth of its start-up; the few
 * commands that need them load sbx-ext.so instead. */
#pragma once

#include "cgroup.h"
#include "netpolicy.h"

#include <glib.h>

#define SBX_EXT_ABI 3

typedef struct
{
  guint abi; /* SBX_EXT_ABI */
  /* `sbx ps --json`: SbxSandboxInfo* -> a JSON array */
  char *(*ps_json) (GPtrArray *sandboxes);
  /* `sbx diff --json`: SbxChange* -> a JSON array */
  char *(*diff_json) (GPtrArray *changes);
  /* cgroup.c, over GDBus: see cgroup.h */
  SbxScope *(*scope_start) (const SbxScopeRequest *req, GError **error);
  int (*scope_events_fd) (SbxScope *scope);
  void (*scope_stop) (SbxScope *scope);
  gboolean (*scope_attach) (const char *unit, pid_t pid, GError **error);
  char *(*cgroup_probe) (GError **error);
  /* `sbx doctor --json`: SbxDoctorCheck* (doctor.h) -> a JSON object */
  char *(*doctor_json) (GPtrArray *checks, gboolean ok);
  /* --net-log: one record of sbx-net -> one line of JSON (without the
   * newline); @rule is "--allow-net TEXT" or "--deny-net TEXT", or NULL */
  char *(*net_event_json) (const SbxNetEvent *event, const char *rule);
} SbxExt;

/* The exported table in sbx-ext.so. */
#define SBX_EXT_SYMBOL "sbx_ext"

/* Loads sbx-ext.so from beside the sbx binary (the build tree) or from the
 * installed directory; NULL with an error. */
const SbxExt *sbx_ext_load (GError **error);

/* Where a companion of sbx (sbx-net, sbx-ext.so) lives: in the build tree
 * when this sbx is the build tree's, else in @installed_dir.  NULL when it
 * is not there. */
char *sbx_util_find_companion (const char *name, const char *installed_dir);
