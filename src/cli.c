/* SPDX-License-Identifier: GPL-2.0-or-later */
/* cli.c: the command line of each subcommand (GOption) and the usage texts.
 * The options of `sbx run` come from the table in spec.c, so that the
 * command line, --help and profiles cannot disagree. */
#include "config.h"

#include "cli.h"
#include "monitor.h"
#include "spec.h"

#include <errno.h>
#include <pwd.h>
#include <seccomp.h>
#include <stdarg.h>
#include <string.h>
#include <unistd.h>

typedef struct
{
  SbxSpec *spec;
  gboolean help;
} CliState;

static const char *const groups[][2] = {
  { "identity", "Identity" },   { "filesystem", "Filesystem" }, { "network", "Network" },
  { "resources", "Resources" }, { "process", "Process" },
};

void
sbx_cli_usage_error (const char *command, const char *fmt, ...)
{
  va_list ap;
  va_start (ap, fmt);
  g_autofree char *what = g_strdup_vprintf (fmt, ap);
  va_end (ap);
  fprintf (stderr, "sbx: %s\nTry 'sbx%s%s --help' for more information.\n", what,
           command != NULL ? " " : "", command != NULL ? command : "");
  exit (SBX_EXIT_FAILURE);
}

static void
print_run_help (FILE *out)
{
  fputs ("Usage: sbx run [OPTIONS] [--] COMMAND [ARG...]\n\n"
         "Run COMMAND in a new rootless sandbox: own user, PID, mount, network, UTS,\n"
         "IPC, cgroup and time namespaces, the host's / read-only, a fresh /proc,\n"
         "/dev and /tmp.\n",
         out);
  for (guint g = 0; g < G_N_ELEMENTS (groups); g++)
    {
      gboolean header = FALSE;
      for (const SbxOption *o = sbx_spec_options (); o->long_name != NULL; o++)
        {
          if (strcmp (o->group, groups[g][0]) != 0)
            continue;
          if (!header)
            fprintf (out, "\n%s:\n", groups[g][1]);
          header = TRUE;
          g_autofree char *flag = g_strdup_printf (
              "%s%c%s--%s%s%s", o->short_name ? "-" : "", o->short_name ? o->short_name : ' ',
              o->short_name ? ", " : "  ", o->long_name, o->value_name ? " " : "",
              o->value_name ? o->value_name : "");
          fprintf (out, "  %-30s %s\n", flag + (o->short_name ? 0 : 1), o->help);
        }
    }
  fputs ("\n  -h, --help                     Show this help\n\n"
         "Exit status: the command's own; 128+N if it died of signal N; 125 if sbx\n"
         "failed; 126 if the command cannot be executed; 127 if it was not found.\n"
         "See sbx-run(1).\n",
         out);
}

int
sbx_cli_help (const char *command)
{
  if (command == NULL)
    {
      fputs ("Usage: sbx COMMAND [OPTIONS]\n\n"
             "A rootless sandbox for Linux.\n\n"
             "Commands:\n"
             "  run [OPTIONS] [--] COMMAND [ARG...]   run a command in a new sandbox\n"
             "  help [COMMAND]                        show help for a command\n\n"
             "Options:\n"
             "  -h, --help      show this help\n"
             "  -V, --version   show the version and the library versions\n\n"
             "See sbx(1).\n",
             stdout);
      return 0;
    }
  if (strcmp (command, "run") == 0)
    {
      print_run_help (stdout);
      return 0;
    }
  sbx_cli_usage_error (NULL, "'%s' is not an sbx command", command);
}

int
sbx_cli_version (void)
{
  const struct scmp_version *sv = seccomp_version ();
  printf ("sbx %s\n", PACKAGE_VERSION);
  printf ("glib %u.%u.%u\n", glib_major_version, glib_minor_version, glib_micro_version);
  printf ("json-glib %s\n", SBX_JSON_GLIB_VERSION);
  printf ("libcap %s\n", SBX_LIBCAP_VERSION);
  printf ("libseccomp %u.%u.%u\n", sv->major, sv->minor, sv->micro);
  printf ("libslirp %s\n", SBX_LIBSLIRP_VERSION);
  return 0;
}

/* One callback for every option: finds the table entry by the name GOption
 * reports ("--bind" or "-w") and lets spec.c parse and check the value. */
static gboolean
option_cb (const char *name, const char *value, gpointer data, GError **error)
{
  CliState *state = data;
  const char *bare = name + strspn (name, "-");

  if (strcmp (bare, "help") == 0 || strcmp (bare, "h") == 0)
    {
      state->help = TRUE;
      return TRUE;
    }
  for (const SbxOption *o = sbx_spec_options (); o->long_name != NULL; o++)
    if (strcmp (o->long_name, bare) == 0
        || (bare[1] == '\0' && o->short_name == bare[0] && name[1] != '-'))
      return o->set (state->spec, value, error);
  g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_UNKNOWN_OPTION, "unknown option %s", name);
  return FALSE;
}

/* GOption entries built from the option table. */
static GArray *
build_entries (char ***remaining)
{
  GArray *entries = g_array_new (TRUE, TRUE, sizeof (GOptionEntry));

  for (const SbxOption *o = sbx_spec_options (); o->long_name != NULL; o++)
    {
      GOptionEntry e = {
        .long_name = o->long_name,
        .short_name = o->short_name,
        .flags = o->takes_value ? 0 : G_OPTION_FLAG_NO_ARG,
        .arg = G_OPTION_ARG_CALLBACK,
        .arg_data = (gpointer)option_cb,
        .description = o->help,
        .arg_description = o->value_name,
      };
      g_array_append_val (entries, e);
    }
  GOptionEntry help
      = { "help",      'h', G_OPTION_FLAG_NO_ARG, G_OPTION_ARG_CALLBACK, (gpointer)option_cb,
          "Show help", NULL };
  GOptionEntry rest
      = { G_OPTION_REMAINING, 0, 0, G_OPTION_ARG_STRING_ARRAY, remaining, NULL, NULL };
  g_array_append_val (entries, help);
  g_array_append_val (entries, rest);
  return entries;
}

/* The invoking user, read once. */
static void
fill_caller (SbxSpec *spec)
{
  char *cwd = getcwd (NULL, 0);
  struct passwd *pw;

  spec->uid = getuid ();
  spec->gid = getgid ();
  spec->cwd = cwd != NULL ? g_strdup (cwd) : NULL;
  free (cwd);
  pw = getpwuid (spec->uid);
  spec->user_name = pw != NULL ? g_strdup (pw->pw_name) : NULL;
}

int
sbx_cli_run (int argc, char **argv)
{
  g_autoptr (SbxSpec) spec = sbx_spec_new ();
  CliState state = { .spec = spec };
  char **remaining = NULL;
  g_autoptr (GError) error = NULL;

  fill_caller (spec);
  g_autoptr (GArray) entries = build_entries (&remaining);
  g_autoptr (GOptionContext) ctx = g_option_context_new (NULL);
  GOptionGroup *group = g_option_group_new ("run", "run", "run", &state, NULL);
  g_option_group_add_entries (group, (GOptionEntry *)(void *)entries->data);
  g_option_context_set_main_group (ctx, group);
  g_option_context_set_help_enabled (ctx, FALSE);
  /* Options end at the command: in `sbx run ls -l`, -l is ls's. */
  g_option_context_set_strict_posix (ctx, TRUE);

  if (!g_option_context_parse (ctx, &argc, &argv, &error))
    {
      /* GOption's own messages start with a capital ("Unknown option");
       * ours are lower case after "sbx: ". */
      if (g_ascii_isupper (error->message[0]) && g_ascii_islower (error->message[1]))
        error->message[0] = g_ascii_tolower (error->message[0]);
      sbx_cli_usage_error ("run", "%s", error->message);
    }
  if (state.help)
    {
      g_strfreev (remaining);
      print_run_help (stdout);
      return 0;
    }
  spec->argv = remaining;
  if (!sbx_spec_validate (spec, &error))
    sbx_cli_usage_error ("run", "%s", error->message);
  return sbx_monitor_run (spec);
}
