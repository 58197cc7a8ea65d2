/* SPDX-License-Identifier: GPL-2.0-or-later */
/* main.c: subcommand dispatch only. */
#include "config.h"

#include "cli.h"
#include "security.h"
#include "util.h"

#include <locale.h>
#include <signal.h>
#include <string.h>

int
main (int argc, char **argv)
{
  /* The caller's character set (file names on the command line may be
   * UTF-8), but no translated messages: sbx has none of its own, and
   * glibc and GLib would read their catalogs by path, which after entering
   * a sandbox is the sandbox's tree (docs/security.md).  With LC_MESSAGES
   * "C" no catalog is ever opened, whatever LANGUAGE says. */
  setlocale (LC_ALL, "");
  setlocale (LC_MESSAGES, "C");
  sbx_security_refuse_privileged ();
  /* What the caller left open reaches no program sbx starts. */
  sbx_util_cloexec_from (3);
  /* A caller that ignores SIGCHLD would make waiting for our children
   * impossible (they would be reaped behind our back). */
  signal (SIGCHLD, SIG_DFL);

  if (argc < 2)
    sbx_cli_usage_error (NULL, "no command given");
  const char *cmd = argv[1];
  if (strcmp (cmd, "--version") == 0 || strcmp (cmd, "-V") == 0)
    return sbx_cli_version ();
  if (strcmp (cmd, "--help") == 0 || strcmp (cmd, "-h") == 0)
    return sbx_cli_help (NULL);
  if (strcmp (cmd, "help") == 0)
    return sbx_cli_help (argc > 2 ? argv[2] : NULL);
  if (strcmp (cmd, "run") == 0)
    return sbx_cli_run (argc - 1, argv + 1);
  int status = sbx_cli_dispatch (cmd, argc - 1, argv + 1);
  if (status >= 0)
    return status;
  if (cmd[0] == '-')
    sbx_cli_usage_error (NULL, "unknown option %s", cmd);
  sbx_cli_unknown_command (cmd);
}
