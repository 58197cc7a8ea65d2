/* SPDX-License-Identifier: GPL-2.0-or-later */
/* doctor.c: `sbx doctor` checks what sbx needs from the host, one line per
 * check, and gives the command that fixes each failure.
 *
 * Checks that need a user or mount namespace run in a forked child that
 * exits afterwards, so its namespaces and mounts die with it and nothing is
 * left behind.  They run before anything talks D-Bus: GDBus starts a thread,
 * and a forked child of a threaded process may only call async-signal-safe
 * functions (STYLE.md point 13). */
#include "config.h"

#include "doctor.h"
#include "ext.h"
#include "holder.h"
#include "userns.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/capability.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/wait.h>
#include <unistd.h>

/* The controllers behind --cpus, --io-weight, --memory and --pids-limit. */
static const char *const limit_controllers[] = { "cpu", "io", "memory", "pids" };

const char *
sbx_doctor_need_name (SbxDoctorNeed need)
{
  switch (need)
    {
    case SBX_DOCTOR_NEEDED:
      return "needed";
    case SBX_DOCTOR_WANTED:
      return "wanted";
    case SBX_DOCTOR_LIMITS:
      return "limits";
    case SBX_DOCTOR_INFO:
      return "info";
    default:
      g_assert_not_reached ();
    }
}

static void
check_free (SbxDoctorCheck *c)
{
  g_free (c->detail);
  g_free (c->fix);
  g_free (c);
}

/* Adds a check; takes @detail and @fix (NULL when @ok). */
static void
add (GPtrArray *checks, const char *id, const char *label, SbxDoctorNeed need, gboolean ok,
     char *detail, char *fix)
{
  SbxDoctorCheck *c = g_new0 (SbxDoctorCheck, 1);
  c->id = id;
  c->label = label;
  c->need = need;
  c->ok = ok;
  c->detail = detail;
  c->fix = ok ? (g_free (fix), NULL) : fix;
  g_ptr_array_add (checks, c);
}

/* A number from /proc/sys; FALSE when the file is not there (the knob does
 * not exist on this kernel) or holds no number. */
static gboolean
read_sysctl (const char *path, gint64 *value)
{
  g_autofree char *text = NULL;
  if (!g_file_get_contents (path, &text, NULL, NULL))
    return FALSE;
  char *end;
  *value = g_ascii_strtoll (g_strstrip (text), &end, 10);
  return end != text && *end == '\0';
}

/* The fix for a sysctl: set it now and for later boots. */
static char *
sysctl_fix (const char *name, const char *value)
{
  return g_strdup_printf ("echo %s=%s | sudo tee -a /etc/sysctl.d/60-sbx.conf && sudo sysctl "
                          "--system",
                          name, value);
}

/* ---- probes in a child ----------------------------------------------------- */

typedef struct
{
  int err;       /* 0: the probe worked */
  char step[96]; /* what failed */
} ProbeResult;

/* Records the step that failed and returns errno, untouched. */
static int
fail_step (const char **step, const char *what)
{
  *step = what;
  return errno;
}

/* Maps the caller's own uid and gid in the new user namespace, as any
 * process may for itself (setgroups must be denied first: CVE-2014-8989). */
static int
map_self (uid_t uid, gid_t gid, const char **step)
{
  char line[64];
  if (!sbx_util_write_file_at (AT_FDCWD, "/proc/self/setgroups", "deny") && errno != ENOENT)
    return fail_step (step, "writing /proc/self/setgroups");
  g_snprintf (line, sizeof line, "%u %u 1\n", (unsigned)gid, (unsigned)gid);
  if (!sbx_util_write_file_at (AT_FDCWD, "/proc/self/gid_map", line))
    return fail_step (step, "writing /proc/self/gid_map");
  g_snprintf (line, sizeof line, "%u %u 1\n", (unsigned)uid, (unsigned)uid);
  if (!sbx_util_write_file_at (AT_FDCWD, "/proc/self/uid_map", line))
    return fail_step (step, "writing /proc/self/uid_map");
  return 0;
}

/* A user namespace, and the caller's ids mapped in it (under Ubuntu's
 * AppArmor restriction the unshare works but the mapping does not). */
static int
probe_userns (const char **step)
{
  uid_t uid = getuid ();
  gid_t gid = getgid ();
  if (unshare (CLONE_NEWUSER) < 0)
    return fail_step (step, "unshare(CLONE_NEWUSER)");
  return map_self (uid, gid, step);
}

/* What the default `sbx run` mounts: overlayfs over a host directory (/usr,
 * as sbx does) with a tmpfs upper, in a user namespace, and a write. */
static int
probe_overlay (const char **step)
{
  uid_t uid = getuid ();
  gid_t gid = getgid ();
  if (unshare (CLONE_NEWUSER | CLONE_NEWNS) < 0)
    return fail_step (step, "unshare(CLONE_NEWUSER|CLONE_NEWNS)");
  int err = map_self (uid, gid, step);
  if (err != 0)
    return err;
  /* Private first: nothing mounted here may propagate anywhere. */
  if (mount (NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
    return fail_step (step, "making / private");
  if (mount ("tmpfs", "/tmp", "tmpfs", MS_NOSUID | MS_NODEV, "mode=0700") < 0)
    return fail_step (step, "mounting a tmpfs");
  if (mkdir ("/tmp/upper", 0700) < 0 || mkdir ("/tmp/work", 0700) < 0
      || mkdir ("/tmp/merged", 0700) < 0)
    return fail_step (step, "creating the overlay's directories");
  /* userxattr: the kernel's overlay in a user namespace (Linux >= 5.11). */
  if (mount ("overlay", "/tmp/merged", "overlay", MS_NOSUID | MS_NODEV,
             "lowerdir=/usr,upperdir=/tmp/upper,workdir=/tmp/work,userxattr")
      < 0)
    return fail_step (step, "mounting overlayfs over /usr");
  int fd = open ("/tmp/merged/.sbx-doctor", O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0)
    return fail_step (step, "writing into the overlay");
  close (fd);
  return 0;
}

/* Runs @probe in a child and returns what it found.  The child's user and
 * mount namespaces, and every mount in them, end with it. */
static ProbeResult
run_probe (int (*probe) (const char **step))
{
  ProbeResult r = { .err = 0 };
  int fds[2];

  if (pipe2 (fds, O_CLOEXEC) < 0)
    {
      r.err = errno;
      g_strlcpy (r.step, "pipe", sizeof r.step);
      return r;
    }
  pid_t pid = fork ();
  if (pid == 0)
    {
      const char *step = "";
      close (fds[0]);
      r.err = probe (&step);
      g_strlcpy (r.step, step, sizeof r.step);
      sbx_util_write_all (fds[1], &r, sizeof r);
      _exit (0);
    }
  close (fds[1]);
  if (pid < 0 || read (fds[0], &r, sizeof r) != (ssize_t)sizeof r)
    {
      r.err = pid < 0 ? errno : EIO;
      g_strlcpy (r.step, pid < 0 ? "fork" : "the probe died", sizeof r.step);
    }
  close (fds[0]);
  if (pid > 0)
    while (waitpid (pid, NULL, 0) < 0 && errno == EINTR)
      ;
  return r;
}

/* ---- user namespaces --------------------------------------------------- */

static void
check_userns (GPtrArray *checks, gboolean *works)
{
  ProbeResult r = run_probe (probe_userns);
  gint64 v;

  *works = r.err == 0;
  if (read_sysctl ("/proc/sys/kernel/unprivileged_userns_clone", &v))
    add (checks, "unprivileged_userns_clone", "kernel.unprivileged_userns_clone", SBX_DOCTOR_NEEDED,
         v != 0,
         g_strdup_printf ("%" G_GINT64_FORMAT "%s", v,
                          v != 0 ? "" : ": unprivileged users may not create user namespaces"),
         sysctl_fix ("kernel.unprivileged_userns_clone", "1"));
  if (read_sysctl ("/proc/sys/user/max_user_namespaces", &v))
    add (checks, "max_user_namespaces", "user.max_user_namespaces", SBX_DOCTOR_NEEDED, v > 0,
         g_strdup_printf ("%" G_GINT64_FORMAT "%s", v, v > 0 ? "" : ": no user namespace allowed"),
         sysctl_fix ("user.max_user_namespaces", "15000"));
  else
    add (checks, "max_user_namespaces", "user.max_user_namespaces", SBX_DOCTOR_NEEDED, FALSE,
         g_strdup ("missing: this kernel has no user namespaces"),
         g_strdup ("boot a kernel built with CONFIG_USER_NS=y"));
  if (read_sysctl ("/proc/sys/kernel/apparmor_restrict_unprivileged_userns", &v))
    add (checks, "apparmor_restrict_unprivileged_userns",
         "kernel.apparmor_restrict_unprivileged_userns", SBX_DOCTOR_NEEDED, v == 0 || *works,
         g_strdup_printf ("%" G_GINT64_FORMAT "%s", v,
                          v == 0   ? ""
                          : *works ? ", but an AppArmor profile lets sbx use user namespaces"
                                   : ": AppArmor takes every capability from unprivileged user "
                                     "namespaces"),
         sysctl_fix ("kernel.apparmor_restrict_unprivileged_userns", "0"));

  char *fix;
  if (r.err == ENOSPC)
    fix = sysctl_fix ("user.max_user_namespaces", "15000");
  else if (r.err == EPERM || r.err == EACCES)
    fix = g_strdup ("see the sysctl lines above; inside a container or chroot, run sbx on the "
                    "host (or allow user namespaces in the container's seccomp profile)");
  else
    fix = g_strdup ("boot a kernel built with CONFIG_USER_NS=y");
  add (checks, "userns", "user namespace", SBX_DOCTOR_NEEDED, *works,
       *works ? g_strdup ("created one and mapped your uid and gid in it")
              : g_strdup_printf ("%s: %s", r.step, sbx_util_strerror (r.err)),
       fix);
}

/* ---- subordinate ids ------------------------------------------------------ */

/* The first id after every range of @contents (any user), at least 100000
 * as useradd starts: where a new range does not overlap another. */
static guint64
free_subid_start (const char *contents)
{
  g_auto (GStrv) lines = g_strsplit (contents != NULL ? contents : "", "\n", -1);
  guint64 next = 100000;
  for (char **l = lines; *l != NULL; l++)
    {
      g_auto (GStrv) f = g_strsplit (g_strstrip (*l), ":", -1);
      guint64 start, count;
      if (g_strv_length (f) == 3 && sbx_util_parse_u64 (f[1], G_MAXUINT32, &start)
          && sbx_util_parse_u64 (f[2], G_MAXUINT32, &count))
        next = MAX (next, start + count);
    }
  return next;
}

/* @file (/etc/subuid or /etc/subgid) grants the caller a range; parsed as
 * sbx run parses it (sbx_userns_parse_subids). */
static void
check_subids (GPtrArray *checks, const SbxSpec *caller, const char *file, guint32 own,
              const char *id, const char *usermod_option)
{
  g_autofree char *contents = NULL;
  g_autofree char *own_text = g_strdup_printf ("%u", own);
  const char *user = caller->user_name != NULL ? caller->user_name : own_text;
  g_file_get_contents (file, &contents, NULL, NULL);
  g_autoptr (GArray) ranges = sbx_userns_parse_subids (contents, caller->user_name, own);

  guint64 total = 0;
  for (guint i = 0; i < ranges->len; i++)
    total += g_array_index (ranges, SbxIdRange, i).count;
  if (total == 0)
    {
      guint64 start = free_subid_start (contents);
      add (checks, id, file, SBX_DOCTOR_WANTED, FALSE,
           g_strdup_printf ("%s for %s: sbx falls back to mapping only your own id",
                            contents != NULL ? "no range" : "not readable, so no range", user),
           g_strdup_printf ("sudo usermod %s %" G_GUINT64_FORMAT "-%" G_GUINT64_FORMAT " %s",
                            usermod_option, start, start + 65535, user));
      return;
    }
  const SbxIdRange *first = &g_array_index (ranges, SbxIdRange, 0);
  add (checks, id, file, SBX_DOCTOR_WANTED, TRUE,
       g_strdup_printf ("%s has %" G_GUINT64_FORMAT " ids %s %u%s", user, total,
                        ranges->len > 1 ? "in several ranges, the first at" : "from", first->start,
                        total < 65536 ? " (fewer than 65536: some programs want ids up to 65535)"
                                      : ""),
       NULL);
}

/* The owner that files of unmapped ids show (65534 unless changed). */
static guint64
overflow_uid (void)
{
  gint64 v;
  return read_sysctl ("/proc/sys/kernel/overflowuid", &v) ? (guint64)v : 65534;
}

/* newuidmap/newgidmap: present, and able to write maps (setuid root, or
 * the file capability, on a mount that honours it). */
static void
check_map_helper (GPtrArray *checks, const char *name, cap_value_t cap)
{
  g_autofree char *path = sbx_userns_find_helper (name);
  struct stat st;
  struct statvfs vfs;

  if (path == NULL || stat (path, &st) < 0)
    {
      add (checks, name, name, SBX_DOCTOR_WANTED, FALSE,
           g_strdup ("not found: sbx falls back to mapping only your own id"),
           g_strdup ("sudo apt install uidmap (Fedora: sudo dnf install shadow-utils)"));
      return;
    }
  if (statvfs (path, &vfs) == 0 && (vfs.f_flag & ST_NOSUID))
    {
      add (checks, name, name, SBX_DOCTOR_WANTED, FALSE,
           g_strdup_printf ("%s is on a nosuid mount, where it gains nothing", path),
           g_strdup_printf ("sudo mount -o remount,suid \"$(stat -c %%m %s)\"", path));
      return;
    }
  if (st.st_uid == (uid_t)overflow_uid () && (st.st_mode & S_ISUID))
    {
      add (checks, name, name, SBX_DOCTOR_WANTED, FALSE,
           g_strdup_printf ("%s is setuid, but its owner is not mapped in this user namespace",
                            path),
           g_strdup ("run sbx outside this user namespace (or map root into it)"));
      return;
    }
  if (st.st_uid == 0 && (st.st_mode & S_ISUID))
    {
      add (checks, name, name, SBX_DOCTOR_WANTED, TRUE, g_strdup_printf ("%s, setuid root", path),
           NULL);
      return;
    }
  cap_t caps = cap_get_file (path);
  cap_flag_value_t permitted = CAP_CLEAR;
  if (caps != NULL)
    cap_get_flag (caps, cap, CAP_PERMITTED, &permitted);
  if (caps != NULL)
    cap_free (caps);
  char *cap_name = cap_to_name (cap);
  add (checks, name, name, SBX_DOCTOR_WANTED, permitted == CAP_SET,
       permitted == CAP_SET
           ? g_strdup_printf ("%s, file capability %s", path, cap_name)
           : g_strdup_printf ("%s is neither setuid root nor has %s", path, cap_name),
       g_strdup_printf ("sudo chmod u+s %s", path));
  cap_free (cap_name);
}

/* ---- overlays, devices, helpers ------------------------------------------- */

static void
check_overlay (GPtrArray *checks, gboolean userns_works)
{
  if (!userns_works)
    {
      add (checks, "kernel_overlay", "kernel overlay", SBX_DOCTOR_NEEDED, FALSE,
           g_strdup ("not tried: no user namespace"),
           g_strdup ("fix the user namespace lines above"));
      return;
    }
  ProbeResult r = run_probe (probe_overlay);
  add (checks, "kernel_overlay", "kernel overlay", SBX_DOCTOR_NEEDED, r.err == 0,
       r.err == 0 ? g_strdup ("overlayfs over /usr mounts and takes writes in a user namespace")
                  : g_strdup_printf ("%s: %s", r.step, sbx_util_strerror (r.err)),
       g_strdup ("boot Linux 5.11 or later, where overlayfs mounts in a user namespace "
                 "(meanwhile: sbx run --overlay fuse ...)"));
}

/* A character device the caller must open read-write. */
static void
check_device (GPtrArray *checks, const char *id, const char *path, SbxDoctorNeed need,
              const char *module, const char *what_for)
{
  int fd = open (path, O_RDWR | O_CLOEXEC | O_NOCTTY);
  int err = errno;
  if (fd >= 0)
    {
      close (fd);
      add (checks, id, path, need, TRUE, g_strdup ("opens read-write"), NULL);
      return;
    }
  add (checks, id, path, need, FALSE, g_strdup_printf ("%s: %s", sbx_util_strerror (err), what_for),
       err == ENOENT
           ? g_strdup_printf ("sudo modprobe %s", module)
           : g_strdup_printf ("sudo chmod 0666 %s (as a desktop's udev rules have it)", path));
}

static void
check_fuse_overlayfs (GPtrArray *checks)
{
  g_autofree char *bin = g_find_program_in_path ("fuse-overlayfs");
  add (checks, "fuse_overlayfs", "fuse-overlayfs", SBX_DOCTOR_WANTED, bin != NULL,
       bin != NULL ? g_strdup (bin)
                   : g_strdup ("not found: needed for --overlay fuse and for installs into "
                               "/usr with --map-root"),
       g_strdup ("sudo apt install fuse-overlayfs"));
}

/* The network helper, and the libslirp it was built with. */
static void
check_sbx_net (GPtrArray *checks)
{
  g_autofree char *helper = sbx_util_find_companion ("sbx-net", SBX_LIBEXECDIR);
  gboolean ok = helper != NULL && access (helper, X_OK) == 0;
  add (checks, "sbx_net", "sbx-net", SBX_DOCTOR_NEEDED, ok,
       ok ? g_strdup_printf ("%s (libslirp %s)", helper, SBX_LIBSLIRP_VERSION)
          : g_strdup_printf ("not found in %s: the default network (--net slirp) needs it",
                             SBX_LIBEXECDIR),
       g_strdup_printf ("reinstall sbx (sudo meson install -C BUILDDIR puts it in %s)",
                        SBX_LIBEXECDIR));
}

/* ---- limits: the systemd user manager, through sbx-ext.so ------------------ */

/* The controllers of @have that the limits need and are missing, or NULL. */
static char *
missing_controllers (const char *have)
{
  g_auto (GStrv) list = g_strsplit_set (have, " \n", -1);
  g_autoptr (GString) missing = g_string_new (NULL);
  for (guint i = 0; i < G_N_ELEMENTS (limit_controllers); i++)
    if (!g_strv_contains ((const char *const *)list, limit_controllers[i]))
      g_string_append_printf (missing, "%s%s", missing->len ? " " : "", limit_controllers[i]);
  return missing->len ? g_string_free (g_steal_pointer (&missing), FALSE) : NULL;
}

static void
check_limits (GPtrArray *checks, const SbxSpec *caller)
{
  g_autoptr (GError) error = NULL;
  const char *user = caller->user_name != NULL ? caller->user_name : "$USER";
  const SbxExt *ext = sbx_ext_load (&error);
  g_autofree char *have = ext != NULL ? ext->cgroup_probe (&error) : NULL;

  if (have == NULL)
    {
      gboolean no_manager
          = ext == NULL || g_error_matches (error, SBX_CGROUP_ERROR, SBX_CGROUP_ERROR_NO_MANAGER);
      char *fix = ext == NULL ? g_strdup ("reinstall sbx (sbx-ext.so is missing)")
                  : no_manager
                      ? g_strdup_printf ("loginctl enable-linger %s (needs systemd; or log in "
                                         "through systemd-logind)",
                                         user)
                      : g_strdup ("add systemd.unified_cgroup_hierarchy=1 to GRUB_CMDLINE_LINUX "
                                  "in /etc/default/grub, then sudo update-grub and reboot");
      add (checks, "user_manager", "systemd user manager", SBX_DOCTOR_LIMITS, !no_manager,
           no_manager ? g_strdup (error->message) : g_strdup ("answers on the user bus"),
           no_manager ? g_strdup (fix) : NULL);
      add (checks, "cgroup_delegation", "cgroup v2 delegation", SBX_DOCTOR_LIMITS, FALSE,
           no_manager ? g_strdup ("not checked: limits need the systemd user manager")
                      : g_strdup (error->message),
           fix);
      return;
    }
  add (checks, "user_manager", "systemd user manager", SBX_DOCTOR_LIMITS, TRUE,
       g_strdup ("answers on the user bus"), NULL);
  g_autofree char *missing = missing_controllers (have);
  add (checks, "cgroup_delegation", "cgroup v2 delegation", SBX_DOCTOR_LIMITS, missing == NULL,
       missing == NULL ? g_strdup_printf ("controllers %s", g_strstrip (have))
                       : g_strdup_printf ("controllers %s; missing %s", g_strstrip (have), missing),
       g_strdup ("sudo mkdir -p /etc/systemd/system/user@.service.d && printf "
                 "'[Service]\\nDelegate=cpu cpuset io memory pids\\n' | sudo tee "
                 "/etc/systemd/system/user@.service.d/delegate.conf && sudo systemctl "
                 "daemon-reload (then log in again)"));
}

/* The caller's holder (holder.c): information, not a requirement. */
static void
check_holder (GPtrArray *checks)
{
  add (checks, "holder", "holder", SBX_DOCTOR_INFO, TRUE, sbx_holder_describe (), NULL);
}

/* TIOCSTI on the host: informational, sbx's filter denies it anyway. */
static void
check_tiocsti (GPtrArray *checks)
{
  gint64 v;
  const char *label = "dev.tty.legacy_tiocsti";
  if (!read_sysctl ("/proc/sys/dev/tty/legacy_tiocsti", &v))
    add (checks, "legacy_tiocsti", label, SBX_DOCTOR_INFO, TRUE,
         g_strdup ("not in this kernel (before 6.2 TIOCSTI is always allowed); sbx's seccomp "
                   "filter denies it inside"),
         NULL);
  else
    add (checks, "legacy_tiocsti", label, SBX_DOCTOR_INFO, TRUE,
         g_strdup_printf ("%" G_GINT64_FORMAT ": %s; sbx's seccomp filter denies it inside", v,
                          v != 0 ? "the host allows TIOCSTI (pushing input into a terminal)"
                                 : "the host refuses TIOCSTI"),
         NULL);
}

/* ---- output --------------------------------------------------------------- */

/* Counts the failed checks of @need. */
static guint
failed (GPtrArray *checks, gboolean needed)
{
  guint n = 0;
  for (guint i = 0; i < checks->len; i++)
    {
      const SbxDoctorCheck *c = checks->pdata[i];
      if (!c->ok && (c->need == SBX_DOCTOR_NEEDED) == needed)
        n++;
    }
  return n;
}

static void
print_text (GPtrArray *checks)
{
  for (guint i = 0; i < checks->len; i++)
    {
      const SbxDoctorCheck *c = checks->pdata[i];
      printf ("%s %s: %s\n", c->ok ? "✓" : "✗", c->label, c->detail);
      if (!c->ok && c->fix != NULL)
        printf ("    fix: %s\n", c->fix);
    }
  guint needed = failed (checks, TRUE), optional = failed (checks, FALSE);
  if (needed > 0)
    printf ("\nThe default sbx run cannot work here: %u needed check%s failed.\n", needed,
            needed > 1 ? "s" : "");
  else if (optional > 0)
    printf ("\nThe default sbx run works here; %u optional check%s failed (see sbx-doctor(1) "
            "for what each is for).\n",
            optional, optional > 1 ? "s" : "");
  else
    printf ("\nEverything sbx uses works here.\n");
}

int
sbx_doctor_run (const SbxSpec *caller, gboolean json)
{
  g_autoptr (GPtrArray) checks = g_ptr_array_new_with_free_func ((GDestroyNotify)check_free);
  gboolean userns_works;

  /* The forked probes first, D-Bus (a thread) last. */
  check_userns (checks, &userns_works);
  check_subids (checks, caller, "/etc/subuid", caller->uid, "subuid", "--add-subuids");
  check_subids (checks, caller, "/etc/subgid", caller->gid, "subgid", "--add-subgids");
  check_map_helper (checks, "newuidmap", CAP_SETUID);
  check_map_helper (checks, "newgidmap", CAP_SETGID);
  check_overlay (checks, userns_works);
  check_device (checks, "dev_fuse", "/dev/fuse", SBX_DOCTOR_WANTED, "fuse",
                "fuse-overlayfs needs it (--overlay fuse, installs into /usr with --map-root)");
  check_fuse_overlayfs (checks);
  check_device (checks, "dev_net_tun", "/dev/net/tun", SBX_DOCTOR_NEEDED, "tun",
                "the default network (--net slirp) needs it; --net none works without");
  check_sbx_net (checks);
  check_limits (checks, caller);
  check_tiocsti (checks);
  check_holder (checks);

  int status = failed (checks, TRUE) > 0 ? 1 : 0;
  if (!json)
    {
      print_text (checks);
      return status;
    }
  g_autoptr (GError) error = NULL;
  const SbxExt *ext = sbx_ext_load (&error);
  if (ext == NULL)
    sbx_die ("--json: %s", error->message);
  g_autofree char *text = ext->doctor_json (checks, status == 0);
  printf ("%s\n", text);
  return status;
}
