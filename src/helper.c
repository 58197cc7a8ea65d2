/* SPDX-License-Identifier: GPL-2.0-or-later */
/* helper.c: the one way sbx starts a helper program (see helper.h). */
#include "config.h"

#include "helper.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <sched.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

/* What the helper's process reports when a step before execve() fails:
 * the step and its errno, over a close-on-exec pipe (EOF: it exec'd). */
typedef enum
{
  STEP_JOIN = 1,
  STEP_IDS,
  STEP_CAPS,
  STEP_PARENT,
  STEP_SIGNALS,
  STEP_FDS,
  STEP_EXEC,
} Step;

static const char *
step_text (int step)
{
  switch (step)
    {
    case STEP_JOIN:
      return "cannot enter the sandbox's namespaces";
    case STEP_IDS:
      return "cannot become root in the sandbox's user namespace";
    case STEP_CAPS:
      return "cannot keep CAP_SYS_ADMIN";
    case STEP_PARENT:
      return "sbx went away";
    case STEP_SIGNALS:
      return "cannot reset its signals";
    case STEP_FDS:
      return "cannot hand it its fds";
    case STEP_EXEC:
    default:
      return "cannot execute it";
    }
}

typedef struct
{
  const SbxHelper *spawn;
  pid_t parent;
  int exe;    /* the program; moved out of the way of the fds it gets */
  int report; /* write end of the report pipe */
} Child;

int
sbx_helper_open (const char *path, GError **error)
{
  /* O_PATH is enough for execveat(); the mode and type are checked here so
   * that a directory or a non-executable fails now, by name, and not in
   * the helper's process. */
  int fd = open (path, O_PATH | O_CLOEXEC);
  struct stat st;
  int errsv = fd < 0 ? errno : fstat (fd, &st) < 0 ? errno : !S_ISREG (st.st_mode) ? EACCES : 0;
  if (errsv == 0)
    return fd;
  if (fd >= 0)
    close (fd);
  g_set_error (error, G_FILE_ERROR, g_file_error_from_errno (errsv), "%s: %s", path,
               sbx_util_strerror (errsv));
  return -1;
}

/* The rest runs in the helper's process before its execve(): in the vfork
 * case in sbx's own memory, in the other after a raw clone of a process
 * that may have threads (GDBus).  So only system calls, no allocation, no
 * glibc wrapper that keeps state (setresuid() would signal sbx's other
 * threads), and no sanitizer instrumentation. */
#define SBX_RAW __attribute__ ((no_sanitize ("address", "undefined")))

static SBX_RAW G_NORETURN void
fail_step (const Child *c, Step step)
{
  int msg[2] = { step, errno };
  if (write (c->report, msg, sizeof msg) < 0)
    _exit (127);
  _exit (127);
}

/* Keeps CAP_SYS_ADMIN across execve() for a non-root uid (ambient): the
 * caps of the joined user namespace would be gone otherwise. */
static SBX_RAW gboolean
keep_sys_admin (void)
{
  struct __user_cap_header_struct hdr = { .version = _LINUX_CAPABILITY_VERSION_3 };
  struct __user_cap_data_struct data[2];
  if (syscall (SYS_capget, &hdr, data) < 0)
    return FALSE;
  data[CAP_TO_INDEX (CAP_SYS_ADMIN)].inheritable |= CAP_TO_MASK (CAP_SYS_ADMIN);
  return syscall (SYS_capset, &hdr, data) == 0
         && prctl (PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, CAP_SYS_ADMIN, 0, 0) == 0;
}

/* Default dispositions (an ignored signal stays ignored across execve(),
 * and the caller of sbx may have ignored SIGINT or SIGTERM) and the mask
 * asked for (sbx blocks the signals it relays; execve() keeps a mask). */
static SBX_RAW gboolean
reset_signals (const sigset_t *blocked)
{
  sigset_t none;
  for (int sig = 1; sig < 32; sig++)
    {
      struct sigaction old, dfl = { .sa_handler = SIG_DFL };
      if (sig != SIGKILL && sig != SIGSTOP && sigaction (sig, NULL, &old) == 0
          && old.sa_handler == SIG_IGN && sigaction (sig, &dfl, NULL) < 0)
        return FALSE;
    }
  sigemptyset (&none);
  return sigprocmask (SIG_SETMASK, blocked != NULL ? blocked : &none, NULL) == 0;
}

/* fds[i] to fd i.  The sources are first moved above every target, so that
 * no dup2() overwrites a source still to be copied, and so are the program
 * and the report pipe; everything else is closed at execve(). */
static SBX_RAW gboolean
place_fds (Child *c)
{
  const SbxHelper *s = c->spawn;
  int floor = (int)MAX (s->n_fds, 3);
  int high[64];

  if (s->n_fds > G_N_ELEMENTS (high))
    return FALSE;
  c->report = fcntl (c->report, F_DUPFD_CLOEXEC, floor);
  c->exe = fcntl (c->exe, F_DUPFD_CLOEXEC, floor);
  if (c->report < 0 || c->exe < 0)
    return FALSE;
  for (guint i = 0; i < s->n_fds; i++)
    if ((high[i] = s->fds[i] >= 0 ? fcntl (s->fds[i], F_DUPFD_CLOEXEC, floor) : -1) < 0
        && s->fds[i] >= 0)
      return FALSE;
  for (guint i = 0; i < s->n_fds; i++)
    if (high[i] >= 0 && dup2 (high[i], (int)i) < 0)
      return FALSE;
  sbx_util_cloexec_from (floor);
  return TRUE;
}

static SBX_RAW int
child_main (void *data)
{
  Child *c = data;
  const SbxHelper *s = c->spawn;

  if (s->join_pidfd >= 0 && setns (s->join_pidfd, s->join_flags) < 0)
    fail_step (c, STEP_JOIN);
  if (s->become_root
      && (syscall (SYS_setresgid, 0, 0, 0) < 0 || syscall (SYS_setresuid, 0, 0, 0) < 0))
    fail_step (c, STEP_IDS);
  if (s->keep_sys_admin && !keep_sys_admin ())
    fail_step (c, STEP_CAPS);
  /* After the credential changes above, which clear it. */
  if (prctl (PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) < 0 || getppid () != c->parent)
    fail_step (c, STEP_PARENT);
  if (!reset_signals (s->blocked))
    fail_step (c, STEP_SIGNALS);
  if (s->own_pgrp && setpgid (0, 0) < 0)
    fail_step (c, STEP_SIGNALS);
  if (!place_fds (c))
    fail_step (c, STEP_FDS);
  syscall (SYS_execveat, c->exe, "", s->argv, s->envp != NULL ? s->envp : environ, AT_EMPTY_PATH);
  fail_step (c, STEP_EXEC);
}

/* Like posix_spawn(): the helper shares sbx's memory until its execve()
 * and sbx waits meanwhile, so nothing is copied.  A process that joins a
 * user namespace must not share its memory (the kernel refuses setns()
 * then), and AddressSanitizer cannot follow a second process in its
 * memory: a plain clone for those. */
static pid_t
start (Child *c, int *pidfd)
{
#ifndef SBX_ASAN
  if (c->spawn->join_pidfd < 0)
    {
      /* Its stack: enough for the few frames above, on ours (we wait). */
      static const size_t size = 64 * 1024;
      g_autofree guint8 *stack = g_malloc (size);
      return clone (child_main, stack + size, CLONE_VM | CLONE_VFORK | CLONE_PIDFD | SIGCHLD, c,
                    pidfd);
    }
#endif
  pid_t pid = sbx_util_clone3 (0, pidfd);
  if (pid == 0)
    _exit (child_main (c));
  return pid;
}

pid_t
sbx_helper_spawn (const SbxHelper *spawn, int *pidfd, GError **error)
{
  int report[2];
  if (pipe2 (report, O_CLOEXEC) < 0)
    {
      g_set_error (error, G_FILE_ERROR, g_file_error_from_errno (errno), "cannot run %s: pipe: %s",
                   spawn->name, sbx_util_strerror (errno));
      return -1;
    }
  Child c = { .spawn = spawn, .parent = getpid (), .exe = spawn->exe, .report = report[1] };
  int fd = -1;
  pid_t pid = start (&c, &fd);
  int errsv = errno;
  close (report[1]);
  if (pid < 0)
    {
      close (report[0]);
      g_set_error (error, G_FILE_ERROR, g_file_error_from_errno (errsv), "cannot run %s: %s",
                   spawn->name, sbx_util_strerror (errsv));
      return -1;
    }

  int msg[2];
  ssize_t n;
  do
    n = read (report[0], msg, sizeof msg);
  while (n < 0 && errno == EINTR);
  close (report[0]);
  if (n != sizeof msg)
    {
      if (pidfd != NULL)
        *pidfd = fd;
      else
        close (fd);
      return pid;
    }
  while (waitpid (pid, NULL, 0) < 0 && errno == EINTR)
    ;
  sbx_util_close_fdp (&fd);
  g_set_error (error, G_FILE_ERROR, g_file_error_from_errno (msg[1]), "cannot run %s: %s: %s",
               spawn->name, step_text (msg[0]), sbx_util_strerror (msg[1]));
  return -1;
}
