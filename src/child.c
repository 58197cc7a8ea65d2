/* SPDX-License-Identifier: GPL-2.0-or-later */
/* child.c: the sandbox side: from the clone to the exec of the command. */
#include "config.h"

#include "child.h"
#include "init.h"
#include "mask.h"
#include "net.h"
#include "pty.h"
#include "rootfs.h"
#include "security.h"
#include "state.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <linux/if_tun.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <unistd.h>

extern char **environ;

/* Blocks until the monitor says the ids are mapped.  Until then this process
 * is "nobody" in its own namespace and can do nothing useful. */
static void
wait_for_monitor (int sync_fd)
{
  SbxMsg msg;
  if (!sbx_msg_recv (sync_fd, &msg, NULL, NULL) || msg.type != SBX_MSG_GO)
    _exit (SBX_EXIT_FAILURE); /* the monitor failed and said why */
}

/* The time namespace: the command (a child of ours) enters it with the
 * offsets; they can only be written before any process is inside. */
static void
setup_time_namespace (const SbxSpec *spec)
{
  if (unshare (CLONE_NEWTIME) < 0)
    {
      /* A kernel built without CONFIG_TIME_NS (UML, some embedded ones)
       * only matters when offsets were asked for. */
      if (errno == EINVAL && !spec->has_timens_offsets)
        return;
      sbx_die_errno ("cannot create a time namespace%s",
                     errno == EINVAL ? " (this kernel has none), needed by --monotonic/--boottime"
                                     : "");
    }
  if (!spec->has_timens_offsets)
    return;
  g_autofree char *offsets = g_strdup_printf ("monotonic %" G_GINT64_FORMAT " 0\n"
                                              "boottime %" G_GINT64_FORMAT " 0\n",
                                              spec->monotonic_offset, spec->boottime_offset);
  if (!sbx_util_write_file_at (AT_FDCWD, "/proc/self/timens_offsets", offsets))
    sbx_die_errno ("cannot set the clock offsets (--monotonic %" G_GINT64_FORMAT
                   ", --boottime %" G_GINT64_FORMAT ")",
                   spec->monotonic_offset, spec->boottime_offset);
}

/* tap0 is made here, in the sandbox's network namespace, and handed to the
 * monitor, which starts sbx-net on it in the host's. */
static void
setup_network (const SbxChildConfig *config)
{
  const SbxSpec *spec = config->spec;
  if (spec->net == SBX_NET_HOST)
    return;
  sbx_net_setup_loopback ();
  if (spec->net != SBX_NET_SLIRP)
    return;
  cleanup_fd int tap = sbx_net_setup_tap (spec);
  /* Persistent: the device then lives as long as the network namespace,
   * and goes with it, in the kernel's own time.  Otherwise sbx-net's exit,
   * closing the last fd, would unregister it there and then, which waits
   * for the network stack to drop every reference (10 to 30 ms), and the
   * monitor waits for sbx-net.  Nothing else can open tap0 meanwhile: it
   * takes one fd, sbx-net's, and /dev/net/tun is not inside. */
  if (ioctl (tap, TUNSETPERSIST, 1) < 0)
    sbx_die_errno ("cannot make tap0 persistent");
  if (!sbx_msg_send (config->sync_fd, SBX_MSG_TAP_FD, 0, 0, NULL, tap))
    _exit (SBX_EXIT_FAILURE);
}

/* Before the command starts, sbx-net must run: a published port answers
 * from the first connection on. */
static void
wait_for_network (const SbxChildConfig *config)
{
  SbxMsg msg;
  if (config->spec->net != SBX_NET_SLIRP)
    return;
  if (!sbx_msg_send (config->sync_fd, SBX_MSG_NET_WAIT, 0, 0, NULL, -1))
    _exit (SBX_EXIT_FAILURE);
  do
    if (!sbx_msg_recv (config->sync_fd, &msg, NULL, NULL))
      _exit (SBX_EXIT_FAILURE);
  while (msg.type != SBX_MSG_NET_READY);
}

static void
setup_namespaces (const SbxSpec *spec)
{
  /* A named sandbox is called by its name, as podman does; the name sbx
   * chose for --review is no name the caller gave, and a throwaway run
   * keeps the host's. */
  const char *hostname = spec->hostname != NULL ? spec->hostname
                         : spec->name_generated ? NULL
                                                : spec->name;
  if (hostname != NULL && sethostname (hostname, strlen (hostname)) < 0)
    sbx_die_errno ("cannot set the hostname to %s", hostname);
  setup_time_namespace (spec);
}

/* Enters the working directory: the one asked for, else the caller's cwd when
 * it exists inside, else / with a warning. */
static const char *
enter_workdir (const SbxSpec *spec)
{
  const char *want = sbx_spec_wanted_workdir (spec);

  if (want != NULL && chdir (want) == 0)
    return want;
  if (spec->workdir != NULL)
    sbx_die_errno ("--workdir %s", spec->workdir);
  if (want != NULL)
    sbx_warn ("%s does not exist inside the sandbox; starting in /", want);
  if (chdir ("/") < 0)
    sbx_die_errno ("chdir /");
  return "/";
}

/* Root's PATH, as `su -` and sudo's secure_path give it. */
#define ROOT_PATH "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

/* Whether @path names a directory ".../sbin". */
static gboolean
path_has_sbin (const char *path)
{
  g_auto (GStrv) dirs = g_strsplit (path, ":", -1);
  for (char **d = dirs; *d != NULL; d++)
    if (strcmp (*d, "/sbin") == 0 || g_str_has_suffix (*d, "/sbin")
        || g_str_has_suffix (*d, "/sbin/"))
      return TRUE;
  return FALSE;
}

char **
sbx_child_build_environment (const SbxSpec *spec, gboolean root_inside, const char *workdir)
{
  char **env = spec->clearenv ? g_new0 (char *, 1) : g_get_environ ();

  /* The caller's session (bus, display, agents) is out of reach inside:
   * variables pointing at it would only mislead.  -e brings one back. */
  for (const char *const *v = sbx_mask_session_variables (); *v != NULL; v++)
    env = g_environ_unsetenv (env, *v);
  /* A runtime directory of the sandbox's own (rootfs.c made it). */
  if (g_environ_getenv (env, "XDG_RUNTIME_DIR") != NULL)
    {
      g_autofree char *run = g_strdup_printf ("/run/user/%u", (guint)getuid ());
      env = g_file_test (run, G_FILE_TEST_IS_DIR)
                ? g_environ_setenv (env, "XDG_RUNTIME_DIR", run, TRUE)
                : g_environ_unsetenv (env, "XDG_RUNTIME_DIR");
    }

  /* A desktop user's PATH has no sbin directory, where root's tools live
   * (ldconfig, which dpkg runs; useradd, which package scripts run): root
   * inside gets root's, as with `su -` or sudo.  An -e PATH=... still
   * wins. */
  const char *path = g_environ_getenv (env, "PATH");
  if (root_inside && path != NULL && !path_has_sbin (path))
    env = g_environ_setenv (env, "PATH", ROOT_PATH, TRUE);

  for (guint i = 0; i < spec->env->len; i++)
    {
      const char *kv = spec->env->pdata[i];
      const char *eq = strchr (kv, '=');
      g_autofree char *key = g_strndup (kv, (gsize)(eq - kv));
      env = g_environ_setenv (env, key, eq + 1, TRUE);
    }
  return g_environ_setenv (env, "PWD", workdir, TRUE);
}

/* Whether a bare command name exists in some $PATH directory.  execvp()
 * reports EACCES when any directory on the way is unreadable, even if the
 * command exists nowhere; the shell's "not found" (127) is what users expect
 * then. */
static gboolean
command_in_path (const char *name)
{
  if (strchr (name, '/') != NULL)
    return TRUE;
  const char *path = g_getenv ("PATH");
  g_auto (GStrv) dirs = g_strsplit (path != NULL ? path : "/bin:/usr/bin", ":", -1);
  for (char **d = dirs; *d; d++)
    {
      g_autofree char *candidate = g_build_filename (**d ? *d : ".", name, NULL);
      if (access (candidate, F_OK) == 0)
        return TRUE;
    }
  return FALSE;
}

/* What the command's process needs, made by PID 1 before it exists: the
 * process shares PID 1's memory until its execve() (see spawn_command), so
 * it allocates nothing. */
typedef struct
{
  const SbxChildConfig *config;
  cap_t caps;               /* config->caps, for libcap */
  struct sock_fprog filter; /* the seccomp filter; .len 0: --seccomp=unconfined */
  int exec_errno;           /* set when execve() failed: PID 1 reports it */
  char interpreter[256];    /* ... and the #! interpreter found missing, or "" */
  int exec_report;          /* forked: the pipe the two go back through, or -1 */
  int pty_slave;            /* the slave of the command's pty, or -1 */
} CommandStart;

/* Reports a failed execve() of the command (126, or 127 when not found):
 * a script whose #! interpreter is missing exists and cannot be executed,
 * and the interpreter is named (execve() says ENOENT, as if the script
 * itself were missing). */
static G_NORETURN void
exec_failed (const SbxSpec *spec, int errsv, const char *interpreter)
{
  if (errsv == ENOENT && interpreter[0] != '\0')
    sbx_die_code (SBX_EXIT_CANNOT_EXEC, "cannot run '%s': its interpreter %s is missing",
                  spec->argv[0], interpreter);
  if (errsv == EACCES && !command_in_path (spec->argv[0]))
    errsv = ENOENT; /* an unreadable PATH directory, not the command */
  sbx_die_code (errsv == ENOENT ? SBX_EXIT_NOT_FOUND : SBX_EXIT_CANNOT_EXEC, "cannot run '%s': %s",
                spec->argv[0], sbx_util_strerror (errsv));
}

/* In the command's process: the last steps before execve(). */
static int
exec_command (void *data)
{
  CommandStart *start = data;
  const SbxChildConfig *config = start->config;
  const SbxSpec *spec = config->spec;

  /* The monitor blocked the relayed signals before the clone; the command
   * starts with the mask the caller had. */
  sigprocmask (SIG_SETMASK, &config->caller_mask, NULL);
  sbx_security_isolate_process (spec);
  /* A session of its own (above) whose controlling terminal is the pty:
   * the terminal's signals and job control work inside, and the caller's
   * terminal is not among the command's fds. */
  if (start->pty_slave >= 0)
    sbx_pty_attach (start->pty_slave, config->pty.std_fds);
  sbx_security_caps_apply (start->caps, config->caps, config->inside_uid == 0);

  /* Last: credential changes above would have cleared it.  If PID 1 is
   * already gone, the PID namespace is being torn down; do not start. */
  if (prctl (PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) < 0 || getppid () != 1)
    _exit (SBX_EXIT_FAILURE);
  sbx_security_close_inherited_fds ();
  /* The filter comes last: nothing sbx itself does is filtered. */
  if (start->filter.len > 0)
    sbx_security_load_seccomp (&start->filter);

  execvp (spec->argv[0], spec->argv);
  start->exec_errno = errno;
  /* Looked for here, with the command's own privileges and filter: the
   * file is the sandbox's, read as data (its first line) by a process
   * that can do no more than the command itself. */
  if (start->exec_errno == ENOENT)
    sbx_util_missing_interpreter (spec->argv[0], start->interpreter, sizeof start->interpreter);
  if (start->exec_report >= 0
      && (write (start->exec_report, &start->exec_errno, sizeof start->exec_errno) < 0
          || write (start->exec_report, start->interpreter, sizeof start->interpreter) < 0))
    _exit (SBX_EXIT_CANNOT_EXEC);
  _exit (SBX_EXIT_CANNOT_EXEC);
}

/* The command's process as a plain fork: a copy of PID 1.  PID 1 waits for
 * its execve() as it does with CLONE_VFORK, over a close-on-exec pipe, so
 * that a failed exec is reported by PID 1 before the command counts as
 * started (the monitor takes no error after that). */
static pid_t
fork_command (CommandStart *start)
{
  int report[2];
  if (pipe2 (report, O_CLOEXEC) < 0)
    return -1;
  start->exec_report = report[1];
  pid_t pid = fork ();
  if (pid == 0)
    exec_command (start);
  close (report[1]);
  start->exec_report = -1;
  int errsv = 0;
  char interpreter[sizeof start->interpreter] = "";
  gboolean failed = pid > 0 && sbx_util_read_all (report[0], &errsv, sizeof errsv);
  if (failed && sbx_util_read_all (report[0], interpreter, sizeof interpreter))
    memcpy (start->interpreter, interpreter, sizeof interpreter);
  close (report[0]);
  start->interpreter[sizeof start->interpreter - 1] = '\0';
  if (failed)
    start->exec_errno = errsv;
  return pid;
}

/* Starts the command's process and returns its pid once it has exec'd.
 * Like posix_spawn(): CLONE_VM | CLONE_VFORK on a stack of its own, so that
 * PID 1's page tables are not copied nor its pages faulted in twice, and
 * PID 1 waits meanwhile.  The command enters the time namespace at its
 * execve() (Linux 6.0; before, the kernel refuses CLONE_VM here, and a
 * fork does).  AddressSanitizer cannot follow a second process in its
 * memory: a fork there too. */
static pid_t
spawn_command (CommandStart *start)
{
#ifdef SBX_ASAN
  return fork_command (start);
#else
  /* The command's own frames, execvp's PATH buffer and the argv of a
   * script run through /bin/sh live on this stack. */
  const SbxSpec *spec = start->config->spec;
  size_t size = 256 * 1024 + (g_strv_length (spec->argv) + 2) * sizeof (char *);
  void *stack = mmap (NULL, size, PROT_READ | PROT_WRITE,
                      MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK | MAP_NORESERVE, -1, 0);
  if (stack == MAP_FAILED)
    return fork_command (start);
  pid_t pid = clone (exec_command, (char *)stack + size, CLONE_VM | CLONE_VFORK | SIGCHLD, start);
  int errsv = errno;
  munmap (stack, size);
  if (pid < 0 && errsv == EINVAL)
    return fork_command (start);
  errno = errsv;
  return pid;
#endif
}

/* Tells the monitor the sandbox's namespaces as they are now, before the
 * command can make others: `sbx exec` joins through the command (PID 1 is
 * not dumpable), and checks it lands in these, not in namespaces the
 * command made for itself. */
static void
report_namespaces (int sync_fd)
{
  cleanup_fd int nsdir = open ("/proc/self/ns", O_PATH | O_DIRECTORY | O_CLOEXEC);
  g_autofree char *ns = nsdir >= 0 ? sbx_state_read_namespaces (nsdir) : NULL;
  if (ns != NULL)
    sbx_msg_send (sync_fd, SBX_MSG_NAMESPACES, 0, 0, ns, -1);
}

void
sbx_child_run (const SbxChildConfig *config)
{
  const SbxSpec *spec = config->spec;
  sigset_t forwarded;

  sbx_util_set_error_channel (config->sync_fd);
  /* Nothing of the monitor's stays here: the named sandbox's lock, the
   * published ports' sockets, whatever the caller left open.  PID 1 lives
   * beside the command and must hold nothing of the host's it does not
   * need (docs/security.md).  The skeleton's fd goes with the overlay
   * once the root is built (and the second sweep below makes sure). */
  int keep[] = { config->sync_fd, config->net_fd, config->skeleton_fd };
  sbx_util_close_fds_except (keep, G_N_ELEMENTS (keep));
  sbx_init_forwarded_signals (&forwarded);
  sigaddset (&forwarded, SIGCHLD);

  /* If the monitor dies, so do we (and with PID 1 the whole namespace). */
  if (prctl (PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) < 0)
    _exit (SBX_EXIT_FAILURE);
  /* What needs only the capabilities the new user namespace gave us runs
   * while the monitor maps the ids (newuidmap takes a millisecond or two);
   * creating files needs the mapped ids, so the rest waits for them. */
  setup_namespaces (spec);
  setup_network (config);
  SbxRootfs *rootfs = sbx_rootfs_prepare (spec, config->skeleton_fd, config->skeleton_path);
  wait_for_monitor (config->sync_fd);
  /* The cgroup namespace is made only now, once the monitor has moved us
   * into our systemd scope: its root is where we are when it is created,
   * and the sandbox must see its own scope there, not the caller's
   * session with its neighbours. */
  if (unshare (CLONE_NEWCGROUP) < 0)
    sbx_die_errno ("cannot create a cgroup namespace");

  sbx_rootfs_build (rootfs, spec, config->inside_uid, config->inside_gid, config->root_mapped,
                    config->sync_fd);
  /* The command's pty, from the devpts just mounted; its slave belongs to
   * the opener's ids, which are the command's (PID 1 has the caller's
   * mapped ids, as the command). */
  int pty_master = config->pty.active ? sbx_rootfs_open_pty (rootfs) : -1;
  int pty_slave = -1;
  if (pty_master >= 0)
    {
      g_autoptr (GError) error = NULL;
      pty_slave = sbx_pty_open_slave (pty_master, &config->pty, &error);
      if (pty_slave < 0)
        sbx_die ("%s", error->message);
    }
  sbx_rootfs_enter (rootfs);
  const char *workdir = enter_workdir (spec);

  /* Signals for PID 1 go through a signalfd, set up before the fork so that
   * none sent in between is lost.  The forwarded ones stay blocked in PID 1. */
  sigprocmask (SIG_BLOCK, &forwarded, NULL);
  int signal_fd = signalfd (-1, &forwarded, SFD_CLOEXEC);
  if (signal_fd < 0)
    sbx_die_errno ("signalfd");
  /* What the setup opened is closed by now; this makes sure of it before
   * the command exists beside us. */
  int needed[] = { config->sync_fd, config->net_fd, signal_fd, pty_master, pty_slave };
  sbx_util_close_fds_except (needed, G_N_ELEMENTS (needed));

  /* Without --share-tty PID 1 leaves the caller's session too, so that the
   * terminal's signals reach only the monitor, which relays them once. */
  if (!spec->share_tty && setsid () < 0)
    sbx_die_errno ("setsid");

  /* Everything the command's process needs is made here: it allocates
   * nothing itself. */
  CommandStart start = { .config = config,
                         .caps = sbx_security_caps_new (config->caps),
                         .exec_report = -1,
                         .pty_slave = pty_slave };
  if (!spec->seccomp_unconfined)
    sbx_security_seccomp_program (&start.filter);
  environ = sbx_child_build_environment (spec, config->inside_uid == 0, workdir);

  wait_for_network (config);
  /* The master goes to the monitor, which proxies it, while PID 1 still
   * runs only sbx's code (it takes it only before "started"); PID 1 keeps
   * neither end once the command has its slave. */
  if (pty_master >= 0)
    {
      if (!sbx_msg_send (config->sync_fd, SBX_MSG_PTY, 0, 0, NULL, pty_master))
        _exit (SBX_EXIT_FAILURE);
      sbx_util_close_fdp (&pty_master);
    }
  /* Named before the command exists: it may read /proc/1/comm at once. */
  prctl (PR_SET_NAME, "sbx-init", 0, 0, 0);
  /* Not dumpable before the command exists either: a command that keeps
   * capabilities (--map-root) must never list or open PID 1's fds, its
   * sockets to the monitor and to sbx-net, nor ptrace it, not even in the
   * moment between its start and PID 1's next steps (a fast command did,
   * on a loaded machine).  The flag is the memory's, which the command
   * shares until its execve(); the execve() gives it its own. */
  prctl (PR_SET_DUMPABLE, 0, 0, 0, 0);
  pid_t command = spawn_command (&start);
  if (command < 0)
    sbx_die_errno ("cannot start the command");
  sbx_util_close_fdp (&pty_slave);
  if (start.exec_errno != 0)
    exec_failed (spec, start.exec_errno, start.interpreter);
  cap_free (start.caps);
  /* PID 1 writes nothing to the caller's terminal or pipes: holding them
   * open would only make a reader of a pipe wait for PID 1's exit, the
   * namespaces' teardown included, after the command's last process has
   * closed its end. */
  int null = open ("/dev/null", O_RDWR | O_CLOEXEC);
  for (int fd = 0; null >= 0 && fd <= 2; fd++)
    dup2 (null, fd);
  sbx_util_close_fdp (&null);

  /* The monitor learns the command's pid in its own PID namespace from the
   * credentials, which the kernel translates; `sbx exec` joins the sandbox
   * through it (PID 1 itself is not dumpable).  Naming another process in
   * them needs CAP_SYS_ADMIN, so before the capabilities go. */
  if (spec->name != NULL) /* only a named sandbox can be joined */
    report_namespaces (config->sync_fd);
  sbx_msg_send_for_pid (config->sync_fd, SBX_MSG_STARTED, command, command);
  /* PID 1 needs no privilege from here on. */
  sbx_security_drop_all_caps ();
  /* The command leads a session and process group of its own unless it
   * shares the caller's: relayed signals go to the whole group then. */
  sbx_init_run (command, !spec->share_tty, config->sync_fd, signal_fd, config->net_fd);
}
