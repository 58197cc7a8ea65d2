/* SPDX-License-Identifier: GPL-2.0-or-later */
/* cli.c: the command line of each subcommand (GOption) and the usage texts.
 * The options of `sbx run` come from the table in spec.c, so that the
 * command line, --help and profiles cannot disagree. */
#include "config.h"

#include "cli.h"
#include "apply.h"
#include "doctor.h"
#include "holder.h"
#include "join.h"
#include "monitor.h"
#include "named.h"
#include "patch.h"
#include "profile.h"
#include "review.h"
#include "state.h"
#include "spec.h"

#include <errno.h>
#include <pwd.h>
#include <seccomp.h>
#include <stdarg.h>
#include <string.h>
#include <unistd.h>

/* One option as given on the command line, kept so that it can be applied
 * again over a profile. */
typedef struct
{
  const SbxOption *option;
  char *value;
} GivenOption;

typedef struct
{
  SbxSpec *spec;
  gboolean help;
  GArray *given; /* GivenOption, in command-line order */
} CliState;

static void fill_caller (SbxSpec *spec);

/* The commands besides `run`, for dispatch and `sbx help COMMAND`. */
static const struct
{
  const char *name;
  int (*run) (int argc, char **argv);
} subcommands[] = {
  { "apply", sbx_cli_apply }, { "diff", sbx_cli_diff }, { "doctor", sbx_cli_doctor },
  { "exec", sbx_cli_exec },   { "ps", sbx_cli_ps },     { "rm", sbx_cli_rm },
  { "stop", sbx_cli_stop },
};

static int cli_review (int argc, char **argv);

int
sbx_cli_dispatch (const char *command, int argc, char **argv)
{
  /* Not a command of the user's (not listed, not suggested): how `sbx run
   * --review` goes on in a fresh sbx once its sandbox is gone. */
  if (strcmp (command, "__review") == 0)
    return cli_review (argc, argv);
  /* Nor is the holder's wait (holder.c). */
  if (strcmp (command, "__holder") == 0)
    return sbx_holder_wait (argc, argv);
  for (guint i = 0; i < G_N_ELEMENTS (subcommands); i++)
    if (strcmp (command, subcommands[i].name) == 0)
      return subcommands[i].run (argc, argv);
  return -1;
}

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

/* One option of a --help text: "  -w, --workdir DIR   help", long names
 * aligned whether or not there is a short one. */
static void
print_option (FILE *out, char short_name, const char *long_name, const char *value_name,
              const char *help)
{
  /* An optional value ("[=WHEN]") is written as it is typed, joined. */
  g_autofree char *flag = g_strdup_printf ("%c%c%c --%s%s%s", short_name ? '-' : ' ',
                                           short_name ? short_name : ' ', short_name ? ',' : ' ',
                                           long_name, value_name && value_name[0] != '[' ? " " : "",
                                           value_name ? value_name : "");
  if (strlen (flag) > 30)
    fprintf (out, "  %s\n  %-30s %s\n", flag, "", help);
  else
    fprintf (out, "  %-30s %s\n", flag, help);
}

static void
print_run_help (FILE *out)
{
  fputs ("Usage: sbx run [OPTIONS] [--] COMMAND [ARG...]\n\n"
         "Run COMMAND in a new rootless sandbox: own user, PID, mount, network, UTS,\n"
         "IPC, cgroup and time namespaces, the host's / under a throwaway writable\n"
         "layer, a fresh /proc, /dev, /run and /tmp.\n",
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
          print_option (out, o->short_name, o->long_name, o->value_name, o->help);
        }
    }
  fputs ("\n  -h, --help                     Show this help\n\n"
         "Exit status: the command's own; 128+N if it died of signal N; 125 if sbx\n"
         "failed; 126 if the command cannot be executed; 127 if it was not found.\n"
         "See sbx-run(1).\n",
         out);
}

/* ---- the named-sandbox commands ------------------------------------------ */

/* `sbx CMD --help`, laid out as `sbx run --help` and the man page: usage,
 * what the command does, its options, where to read more. */
static void
print_subcommand_help (const char *cmd, const char *params, const char *summary,
                       const GOptionEntry *entries)
{
  printf ("Usage: sbx %s%s%s%s\n\n%s\n\nOptions:\n", cmd,
          entries != NULL && entries->long_name != NULL ? " [OPTIONS]" : "", params[0] ? " " : "",
          params, summary);
  for (const GOptionEntry *e = entries; e != NULL && e->long_name != NULL; e++)
    if (!(e->flags & G_OPTION_FLAG_HIDDEN))
      print_option (stdout, e->short_name, e->long_name, e->arg_description, e->description);
  print_option (stdout, 'h', "help", NULL, "Show this help");
  printf ("\nSee sbx-%s(1).\n", cmd);
}

static gboolean
entry_takes_value (const GOptionEntry *e)
{
  return e->arg != G_OPTION_ARG_NONE
         && !(e->flags & (G_OPTION_FLAG_NO_ARG | G_OPTION_FLAG_OPTIONAL_ARG));
}

/* Whether @e is an on/off option (or --color[=WHEN]): its value, if any,
 * is joined with '='. */
static gboolean
entry_is_switch (const GOptionEntry *e)
{
  return (e->flags & G_OPTION_FLAG_OPTIONAL_ARG) != 0;
}

/* Whether the option @e may be given several times: a list (GOption's
 * arrays), or a repeatable option of run's (exec's -e is run's). */
static gboolean
entry_repeatable (const GOptionEntry *e)
{
  if (e->arg == G_OPTION_ARG_STRING_ARRAY || e->arg == G_OPTION_ARG_FILENAME_ARRAY)
    return TRUE;
  const SbxOption *o = e->arg == G_OPTION_ARG_CALLBACK ? sbx_spec_find_option (e->long_name) : NULL;
  return o != NULL && o->repeatable;
}

/* Remembers that @e was given (with @value); a second time is a usage
 * error for an option that is not repeatable: `--name a --name b` would
 * otherwise silently be b (a profile's value is another matter: the
 * command line overrides it, cli.c's apply_profile). */
static void
note_given (const char *cmd, GHashTable *given, const GOptionEntry *e, const char *value)
{
  if (entry_repeatable (e) || strcmp (e->long_name, "help") == 0)
    return;
  gpointer first;
  if (!g_hash_table_lookup_extended (given, e, NULL, &first))
    {
      g_hash_table_insert (given, (gpointer)e, (gpointer)value);
      return;
    }
  if (first != NULL && value != NULL)
    sbx_cli_usage_error (cmd, "--%s given more than once ('%s', then '%s'); it takes one value",
                         e->long_name, (const char *)first, value);
  sbx_cli_usage_error (cmd, "--%s given more than once", e->long_name);
}

static const GOptionEntry *
find_long (const GOptionEntry *entries, const char *name, size_t n)
{
  for (const GOptionEntry *e = entries; e->long_name != NULL; e++)
    if (e->long_name[0] != '\0' && strlen (e->long_name) == n
        && strncmp (e->long_name, name, n) == 0)
      return e;
  return NULL;
}

static const GOptionEntry *
find_short (const GOptionEntry *entries, char c)
{
  for (const GOptionEntry *e = entries; e->long_name != NULL; e++)
    if (e->short_name == c)
      return e;
  return NULL;
}

/* The options of `sbx CMD` as GOption is to read them.  An on/off option
 * is --opt or --opt=VALUE (DESIGN.md), but GOption takes the word after an
 * option whose value is optional as that value: in `sbx run --no-pty
 * make`, "make" would be read as --no-pty's value.  So an on/off option
 * standing alone becomes --opt=true, and a short one (-v, -t, -f), alone
 * or in a cluster (-vw DIR), its long form.  Options end where GOption
 * ends them: at --, and with @posix at the first word that is no option
 * and no option's value.  A repeated single-valued option is refused here
 * (note_given).  Returns a new argv (to g_free) of @argv's strings and of
 * strings added to @made. */
static char **
normalize_options (const char *cmd, int argc, char **argv, const GOptionEntry *entries,
                   gboolean posix, GPtrArray *made)
{
  GPtrArray *out = g_ptr_array_new ();
  g_autoptr (GHashTable) given = g_hash_table_new (g_direct_hash, g_direct_equal);
  int i = 0;

  g_ptr_array_add (out, argv[i++]);
  for (; i < argc; i++)
    {
      const char *a = argv[i];
      if (strcmp (a, "--") == 0)
        break;
      if (a[0] != '-' || a[1] == '\0')
        {
          if (posix)
            break;
          g_ptr_array_add (out, argv[i]);
          continue;
        }
      if (a[1] == '-')
        {
          const char *name = a + 2, *eq = strchr (name, '=');
          const GOptionEntry *e
              = find_long (entries, name, eq != NULL ? (size_t)(eq - name) : strlen (name));
          const char *value = eq != NULL ? eq + 1 : NULL;
          if (e != NULL && eq == NULL && entry_is_switch (e))
            {
              g_ptr_array_add (made, g_strconcat (a, "=true", NULL));
              g_ptr_array_add (out, made->pdata[made->len - 1]);
              note_given (cmd, given, e, NULL);
              continue;
            }
          g_ptr_array_add (out, argv[i]);
          if (e != NULL && eq == NULL && entry_takes_value (e) && i + 1 < argc)
            {
              value = argv[++i];
              g_ptr_array_add (out, argv[i]);
            }
          if (e != NULL)
            note_given (cmd, given, e, value);
          continue;
        }
      /* -w DIR, -wDIR, -vw DIR: a short option's value is the rest of the
       * word, or the next one. */
      g_autoptr (GString) kept = g_string_new ("-");
      gboolean next_is_value = FALSE;
      for (const char *c = a + 1; *c != '\0'; c++)
        {
          const GOptionEntry *e = find_short (entries, *c);
          if (e != NULL && entry_is_switch (e))
            {
              g_ptr_array_add (made, g_strdup_printf ("--%s=true", e->long_name));
              g_ptr_array_add (out, made->pdata[made->len - 1]);
              note_given (cmd, given, e, NULL);
              continue;
            }
          g_string_append_c (kept, *c);
          if (e != NULL && entry_takes_value (e))
            {
              g_string_append (kept, c + 1);
              next_is_value = c[1] == '\0' && i + 1 < argc;
              note_given (cmd, given, e, c[1] != '\0' ? c + 1 : next_is_value ? argv[i + 1] : NULL);
              break;
            }
          if (e != NULL)
            note_given (cmd, given, e, NULL);
        }
      if (kept->len > 1)
        {
          g_ptr_array_add (made, g_string_free (g_steal_pointer (&kept), FALSE));
          g_ptr_array_add (out, made->pdata[made->len - 1]);
        }
      if (next_is_value)
        g_ptr_array_add (out, argv[++i]);
    }
  for (; i < argc; i++)
    g_ptr_array_add (out, argv[i]);
  g_ptr_array_add (out, NULL);
  return (char **)g_ptr_array_free (out, FALSE);
}

/* What the callbacks of a subcommand's options get: its entries as given
 * (for the on/off ones) and the data of its own callbacks. */
typedef struct
{
  const GOptionEntry *entries;
  gpointer data;
} SubcommandParse;

/* An on/off option of a subcommand (ps -a, rm -f, diff --json...): alone
 * or =true|false|yes|no|1|0, as run's; into its gboolean. */
static gboolean
switch_cb (const char *name, const char *value, gpointer data, GError **error)
{
  const SubcommandParse *p = data;
  const char *bare = name + strspn (name, "-");
  for (const GOptionEntry *e = p->entries; e->long_name != NULL; e++)
    if (strcmp (e->long_name, bare) == 0 || (bare[1] == '\0' && e->short_name == bare[0]))
      {
        g_autofree char *option = g_strconcat ("--", e->long_name, NULL);
        return sbx_spec_parse_on_off (option, value, e->arg_data, error);
      }
  g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_UNKNOWN_OPTION, "unknown option %s", name);
  return FALSE;
}

/* GOption's messages start with a capital ("Unknown option"); ours are
 * lower case after "sbx: ". */
static G_NORETURN void
parse_error (const char *cmd, GError *error)
{
  if (g_ascii_isupper (error->message[0]) && g_ascii_islower (error->message[1]))
    error->message[0] = g_ascii_tolower (error->message[0]);
  sbx_cli_usage_error (cmd, "%s", error->message);
}

/* Parses the options of `sbx CMD`, with a --help of ours (exits 0); returns
 * the remaining arguments.  @posix: options end at the first non-option.
 * The callbacks among @entries get a SubcommandParse whose data is @data;
 * the G_OPTION_ARG_NONE ones become on/off options. */
static char **
parse_subcommand (const char *cmd, const char *params, const char *summary,
                  const GOptionEntry *entries, gpointer data, gboolean posix, int argc, char **argv)
{
  g_autoptr (GError) error = NULL;
  char **rest = NULL;
  gboolean help = FALSE;
  SubcommandParse parse = { entries, data };
  g_autoptr (GArray) all = g_array_new (TRUE, TRUE, sizeof (GOptionEntry));
  for (const GOptionEntry *e = entries; e != NULL && e->long_name != NULL; e++)
    {
      GOptionEntry copy = *e;
      if (e->arg == G_OPTION_ARG_NONE)
        {
          copy.arg = G_OPTION_ARG_CALLBACK;
          copy.arg_data = (gpointer)switch_cb;
          copy.flags |= G_OPTION_FLAG_OPTIONAL_ARG;
        }
      g_array_append_val (all, copy);
    }
  GOptionEntry help_entry = { "help", 'h', 0, G_OPTION_ARG_NONE, &help, NULL, NULL };
  GOptionEntry remaining
      = { G_OPTION_REMAINING, 0, 0, G_OPTION_ARG_STRING_ARRAY, &rest, NULL, NULL };
  g_array_append_val (all, help_entry);
  g_array_append_val (all, remaining);

  g_autofree char *prgname = g_strdup_printf ("sbx %s", cmd);
  g_set_prgname (prgname);
  g_autoptr (GOptionContext) ctx = g_option_context_new (params);
  GOptionGroup *group = g_option_group_new (cmd, summary, summary, &parse, NULL);
  g_option_group_add_entries (group, (GOptionEntry *)(void *)all->data);
  g_option_context_set_main_group (ctx, group);
  g_option_context_set_help_enabled (ctx, FALSE);
  g_option_context_set_strict_posix (ctx, posix);
  g_autoptr (GPtrArray) made = g_ptr_array_new_with_free_func (g_free);
  g_autofree char **args
      = normalize_options (cmd, argc, argv, (const GOptionEntry *)(void *)all->data, posix, made);
  int n = (int)g_strv_length (args);
  if (!g_option_context_parse (ctx, &n, &args, &error))
    parse_error (cmd, error);
  if (help)
    {
      print_subcommand_help (cmd, params, summary, entries);
      g_strfreev (rest);
      exit (0);
    }
  return rest;
}

/* The caller as `sbx run` would see it (for id mapping in rm and diff). */
static SbxSpec *
caller_spec (void)
{
  SbxSpec *spec = sbx_spec_new ();
  fill_caller (spec);
  return spec;
}

/* The NAME... of stop and rm: at least one, each valid. */
static char **
names (const char *cmd, char **rest)
{
  if (rest == NULL || rest[0] == NULL)
    sbx_cli_usage_error (cmd, "no sandbox name given");
  for (char **n = rest; *n != NULL; n++)
    if (!sbx_state_name_valid (*n))
      sbx_cli_usage_error (cmd, "'%s' is not a valid sandbox name", *n);
  return rest;
}

/* Reports a failure of one of several names, as podman does; the caller
 * goes on with the others.  Returns this name's exit status. */
static int
each_name_status (gboolean ok, GError *error)
{
  if (ok)
    return 0;
  fprintf (stderr, "sbx: %s\n", error->message);
  return SBX_EXIT_FAILURE;
}

int
sbx_cli_ps (int argc, char **argv)
{
  gboolean all = FALSE, json = FALSE;
  const GOptionEntry entries[] = {
    { "all", 'a', 0, G_OPTION_ARG_NONE, &all, "Also list stopped sandboxes whose layer is kept",
      NULL },
    { "json", 0, 0, G_OPTION_ARG_NONE, &json, "Print a JSON array", NULL },
    { NULL },
  };
  g_auto (GStrv) rest
      = parse_subcommand ("ps", "",
                          "List the named sandboxes (sbx run --name): NAME, PID, STATUS,\n"
                          "UPTIME, COMMAND, PORTS and LIMITS.",
                          entries, NULL, FALSE, argc, argv);
  if (rest != NULL && rest[0] != NULL)
    sbx_cli_usage_error ("ps", "unexpected argument '%s'", rest[0]);
  return sbx_named_ps (all, json);
}

/* exec's -e, -w, --clearenv, --share-tty and --no-pty are run's: same
 * parsing. */
static gboolean
exec_option_cb (const char *name, const char *value, gpointer data, GError **error)
{
  const SubcommandParse *p = data;
  const char *bare = name + strspn (name, "-");
  if (strcmp (bare, "e") == 0)
    bare = "env";
  else if (strcmp (bare, "w") == 0)
    bare = "workdir";
  else if (strcmp (bare, "t") == 0 || strcmp (bare, "tty") == 0)
    bare = "share-tty";
  const SbxOption *o = sbx_spec_find_option (bare);
  g_assert (o != NULL);
  return o->set (p->data, value, error);
}

int
sbx_cli_exec (int argc, char **argv)
{
  g_autoptr (SbxSpec) spec = sbx_spec_new ();
  const GOptionEntry entries[] = {
    { "env", 'e', 0, G_OPTION_ARG_CALLBACK, exec_option_cb, "Set an environment variable",
      "KEY=VALUE" },
    { "clearenv", 0, G_OPTION_FLAG_OPTIONAL_ARG, G_OPTION_ARG_CALLBACK, exec_option_cb,
      "Start from an empty environment", NULL },
    { "workdir", 'w', 0, G_OPTION_ARG_CALLBACK, exec_option_cb,
      "Working directory inside (default: the sandbox command's)", "DIR" },
    { "share-tty", 't', G_OPTION_FLAG_OPTIONAL_ARG, G_OPTION_ARG_CALLBACK, exec_option_cb,
      "Keep the caller's session and terminal", NULL },
    { "tty", 0, G_OPTION_FLAG_OPTIONAL_ARG | G_OPTION_FLAG_HIDDEN, G_OPTION_ARG_CALLBACK,
      exec_option_cb, NULL, NULL },
    { "no-pty", 0, G_OPTION_FLAG_OPTIONAL_ARG, G_OPTION_ARG_CALLBACK, exec_option_cb,
      "No pty of the sandbox's own on a terminal", NULL },
    { NULL },
  };
  fill_caller (spec);
  g_auto (GStrv) rest = parse_subcommand ("exec", "NAME [--] COMMAND [ARG...]",
                                          "Run a command in a running named sandbox, in all its\n"
                                          "namespaces, its scope and its root.",
                                          entries, spec, TRUE, argc, argv);
  if (rest == NULL || rest[0] == NULL)
    sbx_cli_usage_error ("exec", "no sandbox name given");
  if (!sbx_state_name_valid (rest[0]))
    sbx_cli_usage_error ("exec", "'%s' is not a valid sandbox name", rest[0]);
  char **command = rest + 1;
  if (command[0] != NULL && strcmp (command[0], "--") == 0)
    command++;
  if (command[0] == NULL)
    sbx_cli_usage_error ("exec", "no command given");
  spec->argv = g_strdupv (command);

  g_autoptr (GError) error = NULL;
  g_autoptr (SbxSandboxInfo) info = sbx_state_lookup (rest[0], &error);
  if (info == NULL)
    sbx_die ("%s", error->message);
  sbx_join_exec (info, spec);
}

int
sbx_cli_stop (int argc, char **argv)
{
  char *time_text = NULL;
  const GOptionEntry entries[] = {
    { "time", 't', 0, G_OPTION_ARG_STRING, &time_text,
      "Seconds between SIGTERM and SIGKILL (default 10)", "SECONDS" },
    { NULL },
  };
  g_auto (GStrv) rest = parse_subcommand ("stop", "NAME...",
                                          "Stop named sandboxes: SIGTERM, then SIGKILL after the "
                                          "grace time.",
                                          entries, NULL, FALSE, argc, argv);
  g_autofree char *owned_time = time_text;
  guint64 grace = 10;
  if (time_text != NULL && !sbx_util_parse_u64 (time_text, 24 * 3600, &grace))
    sbx_cli_usage_error ("stop", "--time: '%s' is not a number of seconds (0 to 86400)", time_text);
  int status = 0;
  for (char **n = names ("stop", rest); *n != NULL; n++)
    {
      g_autoptr (GError) error = NULL;
      gboolean ok = sbx_named_stop (*n, (guint)grace, &error);
      if (each_name_status (ok, error) != 0)
        status = SBX_EXIT_FAILURE;
    }
  return status;
}

int
sbx_cli_rm (int argc, char **argv)
{
  gboolean force = FALSE;
  char *upper = NULL;
  const GOptionEntry entries[] = {
    { "force", 'f', 0, G_OPTION_ARG_NONE, &force, "Stop the sandbox first if it runs", NULL },
    { "upper", 0, 0, G_OPTION_ARG_FILENAME, &upper,
      "Delete the kept layer DIR (--upper DIR of run) instead", "DIR" },
    { NULL },
  };
  g_auto (GStrv) rest = parse_subcommand (
      "rm", "NAME... | --upper DIR",
      "Delete stopped named sandboxes and their kept layers, or the kept layer\n"
      "in DIR (sbx run --upper DIR), whatever ids own its files.",
      entries, NULL, FALSE, argc, argv);
  g_autofree char *owned_upper = upper;
  g_autoptr (SbxSpec) caller = caller_spec ();
  if (upper != NULL)
    {
      g_autoptr (GError) error = NULL;
      if (rest != NULL && rest[0] != NULL)
        sbx_cli_usage_error ("rm", "--upper DIR takes no NAME ('%s')", rest[0]);
      if (upper[0] == '\0')
        sbx_cli_usage_error ("rm", "--upper: empty value");
      if (!sbx_named_rm_upper (caller, upper, &error))
        sbx_die ("%s", error->message);
      return 0;
    }
  int status = 0;
  for (char **n = names ("rm", rest); *n != NULL; n++)
    {
      g_autoptr (GError) error = NULL;
      gboolean ok = sbx_named_rm (caller, *n, force, &error);
      if (each_name_status (ok, error) != 0)
        status = SBX_EXIT_FAILURE;
    }
  return status;
}

/* --color[=WHEN] of diff and apply; the data is the SbxColor. */
static gboolean
color_cb (const char *name, const char *value, gpointer data, GError **error)
{
  const SubcommandParse *p = data;
  if (sbx_patch_parse_color (value, p->data))
    return TRUE;
  g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
               "%s: '%s' is not one of auto, always, never", name, value);
  return FALSE;
}

/* NAME [PATH...] or, with --upper DIR, PATH...: the name (or NULL) and
 * the paths (or NULL). */
static const char *
name_and_paths (const char *cmd, const char *upper, char **rest, char ***paths)
{
  const char *name = NULL;
  *paths = rest;
  if (upper == NULL)
    {
      if (rest == NULL || rest[0] == NULL)
        sbx_cli_usage_error (cmd, "no sandbox name given");
      if (!sbx_state_name_valid (rest[0]))
        sbx_cli_usage_error (cmd, "'%s' is not a valid sandbox name", rest[0]);
      name = rest[0];
      *paths = rest + 1;
    }
  if (*paths != NULL && (*paths)[0] == NULL)
    *paths = NULL;
  return name;
}

int
sbx_cli_diff (int argc, char **argv)
{
  char *upper = NULL;
  char **lowers = NULL;
  gboolean json = FALSE, patch = FALSE, stat = FALSE;
  SbxColor color = SBX_COLOR_AUTO;
  const GOptionEntry entries[] = {
    { "color", 0, G_OPTION_FLAG_OPTIONAL_ARG, G_OPTION_ARG_CALLBACK, color_cb,
      "Colour the patch: auto (on a terminal), always, never", "[=WHEN]" },
    { "json", 0, 0, G_OPTION_ARG_NONE, &json, "Print a JSON array", NULL },
    { "lower", 0, 0, G_OPTION_ARG_FILENAME_ARRAY, &lowers,
      "A lower layer to compare with (repeatable; default: what it ran on)", "DIR" },
    { "patch", 'p', 0, G_OPTION_ARG_NONE, &patch, "Show a unified diff against what lies below",
      NULL },
    { "stat", 0, 0, G_OPTION_ARG_NONE, &stat, "Show a diffstat", NULL },
    { "upper", 0, 0, G_OPTION_ARG_FILENAME, &upper, "Read this writable layer instead", "DIR" },
    { NULL },
  };
  g_auto (GStrv) rest = parse_subcommand (
      "diff", "NAME | --upper DIR [PATH...]",
      "List what a writable layer added (A), changed (C) and deleted (D), at\n"
      "or below the PATHs; with -p a unified diff against what lies below, with\n"
      "--stat a diffstat.",
      entries, &color, FALSE, argc, argv);
  g_autofree char *owned_upper = upper;
  g_auto (GStrv) owned_lowers = lowers;
  if (json && (patch || stat))
    sbx_cli_usage_error ("diff", "--json cannot be combined with -p or --stat");
  SbxDiffOptions o = { .upper = upper,
                       .lowers = (const char *const *)lowers,
                       .json = json,
                       .patch = patch,
                       .stat = stat,
                       .color = color };
  o.name = name_and_paths ("diff", upper, rest, &o.paths);
  g_autoptr (SbxSpec) caller = caller_spec ();
  return sbx_patch_diff (caller, &o);
}

int
sbx_cli_apply (int argc, char **argv)
{
  char *upper = NULL;
  SbxApplyOptions o = { .color = SBX_COLOR_AUTO };
  const GOptionEntry entries[] = {
    { "color", 0, G_OPTION_FLAG_OPTIONAL_ARG, G_OPTION_ARG_CALLBACK, color_cb,
      "Colour the diffs of -i: auto (on a terminal), always, never", "[=WHEN]" },
    { "dry-run", 0, 0, G_OPTION_ARG_NONE, &o.dry_run, "Say what would be applied; change nothing",
      NULL },
    { "force", 0, 0, G_OPTION_ARG_NONE, &o.force,
      "Apply changes whose host file changed since, too", NULL },
    { "interactive", 'i', 0, G_OPTION_ARG_NONE, &o.interactive,
      "Ask for each change: y, n, d (the diff), q, a", NULL },
    { "keep", 0, 0, G_OPTION_ARG_NONE, &o.keep, "Leave what was applied in the layer", NULL },
    { "upper", 0, 0, G_OPTION_ARG_FILENAME, &upper, "Apply this kept layer (--upper DIR of run)",
      "DIR" },
    { NULL },
  };
  g_auto (GStrv) rest = parse_subcommand (
      "apply", "NAME | --upper DIR [PATH...]",
      "Write what a named sandbox's kept layer (or --upper DIR) changed to the\n"
      "host, as you: files, directories, symlinks, deletions, at or below the\n"
      "PATHs (default: everything below directories you can write).  A change\n"
      "whose host file changed since the sandbox touched it is a conflict, left\n"
      "out unless --force.  Applied changes leave the layer unless --keep.",
      entries, &o.color, FALSE, argc, argv);
  g_autofree char *owned_upper = upper;
  char **paths;
  const char *name = name_and_paths ("apply", upper, rest, &paths);
  g_auto (GStrv) canonical = sbx_patch_canonical_paths (paths, TRUE);
  o.paths = canonical;
  g_autoptr (SbxSpec) caller = caller_spec ();
  return sbx_apply_command (caller, name, upper, &o);
}

int
sbx_cli_doctor (int argc, char **argv)
{
  gboolean json = FALSE;
  const GOptionEntry entries[] = {
    { "json", 0, 0, G_OPTION_ARG_NONE, &json, "Print a JSON object", NULL },
    { NULL },
  };
  g_auto (GStrv) rest = parse_subcommand (
      "doctor", "",
      "Check what sbx needs from this host, one line each, and give the command\n"
      "that fixes each failure.  Exit status: 0 when the default sbx run works\n"
      "here, 1 when a check it needs failed, 125 on a usage error.",
      entries, NULL, FALSE, argc, argv);
  if (rest != NULL && rest[0] != NULL)
    sbx_cli_usage_error ("doctor", "unexpected argument '%s'", rest[0]);
  g_autoptr (SbxSpec) caller = caller_spec ();
  return sbx_doctor_run (caller, json);
}

/* Edit distance with adjacent transpositions counted as one edit (optimal
 * string alignment): "rnu" is one edit from "run". */
static guint
edit_distance (const char *a, const char *b)
{
  size_t n = strlen (a), m = strlen (b);
  g_autofree guint *d = g_new (guint, (n + 1) * (m + 1));
#define D(i, j) d[(i) * (m + 1) + (j)]
  for (size_t i = 0; i <= n; i++)
    D (i, 0) = (guint)i;
  for (size_t j = 0; j <= m; j++)
    D (0, j) = (guint)j;
  for (size_t i = 1; i <= n; i++)
    for (size_t j = 1; j <= m; j++)
      {
        guint cost = a[i - 1] != b[j - 1];
        D (i, j) = MIN (MIN (D (i - 1, j) + 1, D (i, j - 1) + 1), D (i - 1, j - 1) + cost);
        if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1])
          D (i, j) = MIN (D (i, j), D (i - 2, j - 2) + 1);
      }
  guint r = D (n, m);
#undef D
  return r;
}

/* The command nearest to @typed when it is near enough to be an obvious
 * typo (one edit, two for longer words), else NULL. */
static const char *
nearest_command (const char *typed)
{
  const char *best = NULL;
  guint best_d = strlen (typed) >= 5 ? 2 : 1;
  const char *names[G_N_ELEMENTS (subcommands) + 2];
  names[0] = "run";
  names[1] = "help";
  for (guint i = 0; i < G_N_ELEMENTS (subcommands); i++)
    names[i + 2] = subcommands[i].name;
  for (guint i = 0; i < G_N_ELEMENTS (names); i++)
    {
      guint d = edit_distance (typed, names[i]);
      if (d <= best_d && (best == NULL || d < edit_distance (typed, best)))
        best = names[i];
    }
  return best;
}

void
sbx_cli_unknown_command (const char *command)
{
  const char *near = nearest_command (command);
  if (near != NULL)
    sbx_cli_usage_error (NULL, "'%s' is not an sbx command; did you mean '%s'?", command, near);
  sbx_cli_usage_error (NULL, "'%s' is not an sbx command", command);
}

int
sbx_cli_help (const char *command)
{
  if (command == NULL)
    {
      fputs (
          "Usage: sbx COMMAND [OPTIONS]\n\n"
          "A rootless sandbox for Linux.\n\n"
          "Sandboxes:\n"
          "  run [OPTIONS] [--] COMMAND [ARG...]   run a command in a new sandbox\n\n"
          "Named sandboxes (run --name NAME):\n"
          "  ps [-a] [--json]                      list running named sandboxes\n"
          "  exec NAME [--] COMMAND [ARG...]       run a command in a running named sandbox\n"
          "  stop NAME [--time SECONDS]            stop a named sandbox\n"
          "  rm [-f] NAME... | --upper DIR         delete stopped named sandboxes or a kept layer\n"
          "  diff NAME | --upper DIR [PATH...]     list (-p: show) what a writable layer changed\n"
          "  apply NAME | --upper DIR [PATH...]    write a kept layer's changes to the host\n\n"
          "The host:\n"
          "  doctor [--json]                       check what sbx needs and how to fix it\n\n"
          "Help:\n"
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
  for (guint i = 0; i < G_N_ELEMENTS (subcommands); i++)
    if (strcmp (command, subcommands[i].name) == 0)
      {
        char *argv[] = { (char *)command, (char *)"--help", NULL };
        return subcommands[i].run (2, argv);
      }
  if (strcmp (command, "help") == 0)
    return sbx_cli_help (NULL);
  sbx_cli_unknown_command (command);
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
      {
        GivenOption given = { o, g_strdup (value) };
        g_array_append_val (state->given, given);
        return o->set (state->spec, value, error);
      }
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
        .flags = o->takes_value ? 0 : G_OPTION_FLAG_OPTIONAL_ARG,
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

static void
clear_given (gpointer p)
{
  g_free (((GivenOption *)p)->value);
}

/* --profile: a fresh spec gets the profile first and then the command line
 * again, so that the command line wins wherever --profile stood in it, and
 * a repeatable option has the profile's entries before the command line's.
 * The options were checked once already; the profile's are checked by the
 * same setters.  A bad profile is not a usage error: one line, exit 125. */
static SbxSpec *
apply_profile (const CliState *state, GHashTable *origins)
{
  g_autoptr (SbxSpec) merged = sbx_spec_new ();
  g_autoptr (GError) error = NULL;

  fill_caller (merged);
  if (!sbx_profile_load (merged, state->spec->profile, origins, &error))
    sbx_die ("%s", error->message);
  for (guint i = 0; i < state->given->len; i++)
    {
      const GivenOption *g = &g_array_index (state->given, GivenOption, i);
      if (!g->option->set (merged, g->value, &error))
        sbx_cli_usage_error ("run", "%s", error->message);
      /* The command line's value: said as the command line's. */
      g_hash_table_remove (origins, g->option->long_name);
    }
  return g_steal_pointer (&merged);
}

/* A message of validation about an option whose value came from the
 * profile ("--layer: /x: No such file or directory"), said as the
 * profile's ("PATH:LINE: layer: /x: ..."); NULL when the option is not
 * the profile's. */
static char *
said_by_profile (GHashTable *origins, const char *message)
{
  if (origins == NULL || message[0] != '-')
    return NULL;
  size_t n = strcspn (message, ": ");
  g_autofree char *token = g_strndup (message, n);
  const SbxOption *o = NULL;
  if (token[1] == '-')
    o = sbx_spec_find_option (token + 2);
  else
    for (const SbxOption *x = sbx_spec_options (); x->long_name != NULL && n == 2; x++)
      if (x->short_name == token[1])
        o = x;
  const char *where = o != NULL ? g_hash_table_lookup (origins, o->long_name) : NULL;
  if (where == NULL)
    return NULL;
  return g_strdup_printf ("%s: %s%s", where, o->long_name, message + n);
}

int
sbx_cli_run (int argc, char **argv)
{
  g_autoptr (SbxSpec) spec = sbx_spec_new ();
  g_autoptr (GArray) given = g_array_new (FALSE, FALSE, sizeof (GivenOption));
  CliState state = { .spec = spec, .given = given };
  g_array_set_clear_func (given, clear_given);
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
  g_autoptr (GPtrArray) made = g_ptr_array_new_with_free_func (g_free);
  g_autofree char **args = normalize_options (
      "run", argc, argv, (const GOptionEntry *)(void *)entries->data, TRUE, made);
  int n = (int)g_strv_length (args);

  if (!g_option_context_parse (ctx, &n, &args, &error))
    parse_error ("run", error);
  if (state.help)
    {
      g_strfreev (remaining);
      print_run_help (stdout);
      return 0;
    }
  g_autoptr (GHashTable) origins = NULL;
  if (spec->profile != NULL)
    {
      origins = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
      g_autoptr (SbxSpec) merged = apply_profile (&state, origins);
      sbx_spec_free (g_steal_pointer (&spec));
      spec = g_steal_pointer (&merged);
    }
  spec->argv = remaining;
  /* Validation creates nothing: a refused run leaves nothing behind. */
  if (!sbx_spec_validate (spec, &error))
    {
      /* About a profile's value: the profile's error, not a usage error. */
      g_autofree char *profile_said = said_by_profile (origins, error->message);
      if (profile_said != NULL)
        sbx_die ("%s", profile_said);
      if (g_error_matches (error, SBX_SPEC_ERROR, SBX_SPEC_ERROR_USAGE))
        sbx_cli_usage_error ("run", "%s", error->message);
      sbx_die ("%s", error->message);
    }
  if (!spec->review)
    return sbx_monitor_run (spec, NULL);
  cleanup_fd int self = sbx_review_open_self ();
  SbxRunEnd end;
  int status = sbx_monitor_run (spec, &end);
  return sbx_review_after_run (spec, self, &end, status);
}

/* `sbx __review NAME STATUS` (review.c): exits with STATUS, the command's. */
static int
cli_review (int argc, char **argv)
{
  guint64 status;
  if (argc != 3 || !sbx_state_name_valid (argv[1])
      || !g_ascii_string_to_unsigned (argv[2], 10, 0, 255, &status, NULL))
    sbx_cli_usage_error (NULL, "__review NAME STATUS is how 'sbx run --review' goes on; run that");
  g_autoptr (SbxSpec) caller = caller_spec ();
  return sbx_review_run (caller, argv[1], (int)status);
}
