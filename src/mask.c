/* SPDX-License-Identifier: GPL-2.0-or-later */
/* mask.c: the kernel interfaces and host paths the sandbox must not reach,
 * masked or made read-only in the new root before pivot_root.  The lists
 * follow podman's defaults (containers/common pkg/config), with the reason
 * for each. */
#include "config.h"

#include "mask.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

/* Replaced by /dev/null (files) or an empty read-only tmpfs (directories). */
static const char *const masked[] = {
  "/proc/kcore",                   /* the host's memory (root inside must not read it) */
  "/proc/keys",                    /* every keyring of the host visible to the uid */
  "/proc/timer_list",              /* host timers and pointers: KASLR leak */
  "/proc/timer_stats",             /* idem, older kernels */
  "/proc/sched_debug",             /* every host task's name and pid */
  "/proc/latency_stats",           /* host task latencies */
  "/proc/kpagecount",              /* physical page maps (rowhammer aids) */
  "/proc/kpageflags",              /* idem */
  "/proc/kpagecgroup",             /* idem */
  "/proc/acpi",                    /* ACPI controls of the machine */
  "/proc/scsi",                    /* SCSI controls (add/remove devices) */
  "/sys/firmware",                 /* firmware tables and EFI variables */
  "/sys/devices/virtual/powercap", /* RAPL energy counters: CVE-2020-8694 */
};

/* Bound read-only onto themselves: writes there reach the kernel. */
static const char *const readonly[] = {
  "/proc/sys",           /* sysctls (the own namespaces' ones included) */
  "/proc/sysrq-trigger", /* magic SysRq: reboot, crash the host */
  "/proc/irq",           /* interrupt affinity */
  "/proc/bus",           /* PCI and USB config space */
  "/proc/fs",            /* filesystem tunables (NFS...) */
  "/proc/asound",        /* sound card controls */
};

const char *
sbx_mask_reserved (const char *path)
{
  for (guint k = 0; k < 2; k++)
    {
      const char *const *list = k == 0 ? masked : readonly;
      guint n = k == 0 ? G_N_ELEMENTS (masked) : G_N_ELEMENTS (readonly);
      for (guint i = 0; i < n; i++)
        {
          size_t len = strlen (list[i]);
          if (strncmp (path, list[i], len) == 0 && (path[len] == '/' || path[len] == '\0'))
            return list[i];
        }
    }
  return NULL;
}

static const char *const session_variables[] = {
  "DBUS_SESSION_BUS_ADDRESS",
  "SSH_AUTH_SOCK",
  "SSH_AGENT_PID",
  "GPG_AGENT_INFO",
  "DISPLAY",
  "WAYLAND_DISPLAY",
  "XAUTHORITY",
  NULL,
};

const char *const *
sbx_mask_session_variables (void)
{
  return session_variables;
}

static int
open_inside (int root, const char *path, int flags)
{
  struct open_how how = {
    .flags = (guint64)(flags | O_CLOEXEC),
    .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS | RESOLVE_NO_SYMLINKS,
  };
  return (int)syscall (SYS_openat2, root, path + 1, &how, sizeof how);
}

/* An empty tmpfs as a detached mount; read-only unless @writable. */
static int
empty_tmpfs (const char *mode, gboolean writable, const char *what)
{
  cleanup_fd int fs = fsopen ("tmpfs", FSOPEN_CLOEXEC);
  if (fs < 0 || fsconfig (fs, FSCONFIG_SET_STRING, "source", "tmpfs", 0) < 0
      || fsconfig (fs, FSCONFIG_SET_STRING, "mode", mode, 0) < 0
      || fsconfig (fs, FSCONFIG_SET_STRING, "size", "64k", 0) < 0
      || fsconfig (fs, FSCONFIG_CMD_CREATE, NULL, NULL, 0) < 0)
    sbx_die_errno ("cannot mask %s", what);
  int mnt = fsmount (fs, FSMOUNT_CLOEXEC,
                     MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC
                         | (writable ? 0 : MOUNT_ATTR_RDONLY));
  if (mnt < 0)
    sbx_die_errno ("cannot mask %s", what);
  return mnt;
}

static void
attach (int mnt, int target, const char *what)
{
  if (move_mount (mnt, "", target, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) < 0)
    sbx_die_errno ("cannot mask %s", what);
}

/* Masks @path: a file with /dev/null, a directory with an empty read-only
 * tmpfs.  One such tmpfs serves every directory: the first masked one gets
 * it, the others a bind of it (@empty_dir), which is as empty and as
 * read-only, and spares a superblock to set up and tear down. */
static void
mask (int root, const char *path, int *empty_dir)
{
  struct stat st;
  cleanup_fd int target = open_inside (root, path, O_PATH | O_NOFOLLOW);
  if (target < 0 || fstat (target, &st) < 0)
    return; /* not there on this kernel: nothing to hide */
  cleanup_fd int mnt = -1;
  if (S_ISDIR (st.st_mode) && *empty_dir < 0)
    {
      /* Attached at once: the fd then names a mount of this namespace,
       * which open_tree() clones for the next ones on every kernel (a
       * detached mount it does not). */
      *empty_dir = empty_tmpfs ("0555", FALSE, path);
      attach (*empty_dir, target, path);
      return;
    }
  if (S_ISDIR (st.st_mode))
    mnt = open_tree (*empty_dir, "", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_EMPTY_PATH);
  else
    {
      cleanup_fd int null = open_inside (root, "/dev/null", O_PATH);
      mnt = null < 0 ? -1
                     : open_tree (null, "", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_EMPTY_PATH);
    }
  if (mnt < 0)
    sbx_die_errno ("cannot mask %s", path);
  attach (mnt, target, path);
}

static void
make_readonly (int root, const char *path)
{
  cleanup_fd int target = open_inside (root, path, O_PATH | O_NOFOLLOW);
  if (target < 0)
    return;
  cleanup_fd int tree
      = open_tree (target, "", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_EMPTY_PATH | AT_RECURSIVE);
  struct mount_attr attr = { .attr_set = MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV
                                         | MOUNT_ATTR_NOEXEC };
  if (tree < 0 || mount_setattr (tree, "", AT_EMPTY_PATH | AT_RECURSIVE, &attr, sizeof attr) < 0)
    sbx_die_errno ("cannot make %s read-only", path);
  attach (tree, target, path);
}

void
sbx_mask_apply (int newroot)
{
  cleanup_fd int empty_dir = -1;
  for (guint i = 0; i < G_N_ELEMENTS (masked); i++)
    mask (newroot, masked[i], &empty_dir);
  for (guint i = 0; i < G_N_ELEMENTS (readonly); i++)
    make_readonly (newroot, readonly[i]);
}
