/* SPDX-License-Identifier: GPL-2.0-or-later */
/* doctor.h: `sbx doctor`, the checks of the host and how to fix each. */
#pragma once

#include "spec.h"

#include <glib.h>

/* What a check is needed for; decides the exit status (sbx-doctor(1)). */
typedef enum
{
  SBX_DOCTOR_NEEDED, /* the default `sbx run` fails without it: exit 1 */
  SBX_DOCTOR_WANTED, /* sbx falls back without it (single mapping, kernel overlay) */
  SBX_DOCTOR_LIMITS, /* only --memory, --cpus, --pids-limit and --io-weight need it */
  SBX_DOCTOR_INFO,   /* a fact about the host, never a failure */
} SbxDoctorNeed;

typedef struct
{
  const char *id;    /* stable key for --json: "userns", "subuid", ... */
  const char *label; /* what the line is about, as printed */
  SbxDoctorNeed need;
  gboolean ok;
  char *detail; /* what was found */
  char *fix;    /* the command that fixes it (when !ok), else NULL */
} SbxDoctorCheck;

/* "needed", "wanted", "limits" or "info" (for --json). */
const char *sbx_doctor_need_name (SbxDoctorNeed need);

/* Runs every check for @caller and prints them, as text or (through
 * sbx-ext.so) as JSON.  Returns the exit status: 0 when every check the
 * default `sbx run` needs passed, else 1. */
int sbx_doctor_run (const SbxSpec *caller, gboolean json);
