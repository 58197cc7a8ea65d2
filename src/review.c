/* SPDX-License-Identifier: GPL-2.0-or-later */
/* review.c: `sbx run --review`.
 *
 * The run keeps its layer as a named sandbox's (--name's, or a free name
 * validation chose).  When the sandbox is gone (its processes reaped, its
 * helpers ended, its name and layer released), the monitor's process
 * replaces itself by a fresh sbx, `sbx __review NAME STATUS`: the monitor
 * may have GDBus's worker thread by then (the scope), and the review
 * starts processes (the layer's reader in a user namespace, GNU diff) with
 * plain clones, which a threaded process may not follow with anything but
 * system calls.  The fresh image has one thread, no descriptor of the run
 * (all close on exec) and the caller's signal mask.  It takes the name and
 * the layer as `sbx apply` does and reviews the layer by apply's rules (a
 * layer is hostile input; docs/security.md, "apply"). */
#include "config.h"

#include "review.h"
#include "apply.h"
#include "named.h"
#include "state.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <unistd.h>

int
sbx_review_open_self (void)
{
  /* The host's /proc, before anything is cloned: the program running now,
   * even if its file was replaced on disk meanwhile. */
  int fd = open ("/proc/self/exe", O_PATH | O_CLOEXEC);
  if (fd < 0)
    sbx_die ("--review: cannot open sbx's own program (/proc/self/exe): %s",
             sbx_util_strerror (errno));
  return fd;
}

/* One line on stderr: where the changes are and how to go on with them. */
static void
say_kept (const char *name, const char *why)
{
  fflush (stdout);
  fprintf (stderr,
           "sbx: the changes are kept in the sandbox %s (%s): 'sbx diff %s' shows them, "
           "'sbx apply %s' applies them, 'sbx rm %s' discards them\n",
           name, why, name, name, name);
}

int
sbx_review_after_run (const SbxSpec *spec, int self, const SbxRunEnd *end, int status)
{
  /* Nothing ran: a layer made for the run went with it (monitor.c). */
  if (!end->started)
    return status;
  g_autofree char *code = g_strdup_printf ("%d", status);
  char *argv[] = { (char *)"sbx", (char *)"__review", spec->name, code, NULL };
  /* exec discards what stdio holds, and keeps the signal mask: the
   * monitor's signals must reach the review as they reach any program. */
  fflush (stdout);
  fflush (stderr);
  sigprocmask (SIG_SETMASK, &end->caller_mask, NULL);
  fexecve (self, argv, environ);
  fprintf (stderr, "sbx: --review: cannot start the review: %s\n", sbx_util_strerror (errno));
  say_kept (spec->name, "not reviewed");
  return status;
}

/* Removes the sandbox @name, whose name @claim holds, and says so. */
static void
remove_reviewed (const SbxSpec *caller, const char *name, SbxStateClaim *claim, const char *dir,
                 const char *why)
{
  g_autoptr (GError) error = NULL;
  fflush (stdout);
  if (sbx_named_rm_claimed (caller, claim, dir, &error))
    fprintf (stderr, "sbx: %s; %s removed\n", why, name);
  else
    {
      fprintf (stderr, "sbx: %s\n", error->message);
      say_kept (name, "not removed");
    }
}

int
sbx_review_run (const SbxSpec *caller, const char *name, int status)
{
  g_autoptr (GError) error = NULL;
  gboolean terminal = isatty (STDIN_FILENO) && isatty (STDOUT_FILENO);
  /* Held until the end, as `sbx apply` holds them: no sandbox of that
   * name starts, and none writes the layer, while it is reviewed. */
  SbxStateClaim *claim = sbx_state_claim (name, &error);
  if (claim == NULL)
    {
      fprintf (stderr, "sbx: cannot review %s: %s\n", name, error->message);
      say_kept (name, "not reviewed");
      return status;
    }
  g_autoptr (SbxLayerSource) source = sbx_layer_source_new (name, NULL, NULL, &error);
  cleanup_fd int lock
      = source != NULL ? sbx_state_lock_layer (source->dir, "sbx run --review", &error) : -1;
  if (lock < 0)
    {
      fprintf (stderr, "sbx: cannot review %s: %s\n", name, error->message);
      sbx_state_release (claim);
      say_kept (name, "not reviewed");
      return status;
    }
  SbxReviewOutcome outcome;
  int applied = sbx_apply_review (caller, source, SBX_COLOR_AUTO, terminal, &outcome);
  switch (outcome)
    {
    case SBX_REVIEW_EMPTY:
      remove_reviewed (caller, name, claim, source->dir, "the command changed nothing");
      break;
    case SBX_REVIEW_SETTLED:
      remove_reviewed (caller, name, claim, source->dir, "every change applied or declined");
      break;
    case SBX_REVIEW_LEFT:
    default:
      sbx_state_release (claim);
      say_kept (name, applied == SBX_EXIT_FAILURE ? "not reviewed"
                      : terminal                  ? "not all of them applied or declined"
                                                  : "no terminal to review them on");
      break;
    }
  return status;
}
