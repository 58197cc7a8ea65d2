/* SPDX-License-Identifier: GPL-2.0-or-later */
/* cli.h: the command line of each subcommand (GOption) and the usage texts. */
#pragma once

#include "util.h"

#include <stdio.h>

/* `sbx run ...`: @argv[0] is "run".  Returns the exit status. */
int sbx_cli_run (int argc, char **argv);

/* `sbx ps|exec|stop|rm|diff ...`: @argv[0] is the command's name. */
int sbx_cli_ps (int argc, char **argv);
int sbx_cli_exec (int argc, char **argv);
int sbx_cli_stop (int argc, char **argv);
int sbx_cli_rm (int argc, char **argv);
int sbx_cli_diff (int argc, char **argv);
int sbx_cli_apply (int argc, char **argv);
/* `sbx doctor [--json]`. */
int sbx_cli_doctor (int argc, char **argv);

/* Runs the named-sandbox command @command, or returns -1 if there is none. */
int sbx_cli_dispatch (const char *command, int argc, char **argv);

/* `sbx --help` and `sbx help [COMMAND]`. */
int sbx_cli_help (const char *command);
int sbx_cli_version (void);

/* "'CMD' is not an sbx command", with the nearest command when the typo is
 * obvious ("did you mean 'run'?"); a usage error, exit 125. */
void sbx_cli_unknown_command (const char *command) SBX_NORETURN;

/* One line "sbx: WHAT", then where to find help; exit 125. */
void sbx_cli_usage_error (const char *command, const char *fmt, ...) SBX_PRINTF (2, 3) SBX_NORETURN;
