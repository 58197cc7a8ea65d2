/* SPDX-License-Identifier: GPL-2.0-or-later */
/* spec.h: SbxSpec, the one description of a sandbox, and its option table. */
#pragma once

#include <glib.h>
#include <sys/types.h>

typedef enum
{
  SBX_ID_KEEP, /* the caller's uid/gid are the same inside */
  SBX_ID_ROOT, /* the caller is 0/0 inside (--map-root) */
} SbxIdentity;

typedef enum
{
  SBX_NET_SLIRP, /* own netns with tap0, libslirp behind it (helpers/sbx-net) */
  SBX_NET_NONE,  /* own netns with lo only */
  SBX_NET_HOST,  /* the host's netns */
} SbxNetMode;

/* One -p/--publish. */
typedef struct
{
  int family;    /* AF_INET or AF_INET6, of the host address */
  char *host_ip; /* as given, or "127.0.0.1" */
  guint16 host_port;
  guint16 port; /* inside */
  gboolean udp;
  char *text; /* as typed, for messages and ps */
} SbxPublish;

typedef enum
{
  SBX_OVERLAY_AUTO,   /* the driver whose semantics fit identity and rootfs */
  SBX_OVERLAY_KERNEL, /* overlayfs in the user namespace */
  SBX_OVERLAY_FUSE,   /* fuse-overlayfs */
} SbxOverlayDriver;

typedef enum
{
  SBX_MOUNT_BIND,
  SBX_MOUNT_TMPFS,
} SbxMountKind;

/* One --bind/--ro-bind/--tmpfs, kept in command-line order because later
 * mounts may stack on earlier ones. */
typedef struct
{
  SbxMountKind kind;
  char *src;    /* absolute host path (binds) */
  char *dst;    /* absolute, lexically canonical path inside */
  gboolean ro;  /* binds */
  guint64 size; /* tmpfs bytes, 0 = the --tmp-size */
  char *option; /* the option as typed, for messages: "--bind /a:/b" */
} SbxMount;

typedef struct
{
  /* The invoking user, read once in main(). */
  uid_t uid;
  gid_t gid;
  char *cwd;       /* NULL when the cwd is unreachable */
  char *user_name; /* for /etc/subuid lookups; NULL when uid has no passwd entry */

  /* identity */
  SbxIdentity identity;
  gboolean no_subids;

  /* filesystem */
  GPtrArray *mounts; /* SbxMount* */
  char *workdir;     /* NULL: the caller's cwd when it exists inside, else / */
  /* layered root (overlay.c) */
  char *rootfs;      /* --rootfs: canonical path of the lowest layer; NULL: the host's / */
  GPtrArray *layers; /* --layer: canonical paths, lowest first */
  char *upper;       /* --upper (or a named sandbox's kept layer); NULL: throwaway */
  char *upper_work;  /* the overlay work directory beside the kept upper */
  SbxOverlayDriver overlay;
  char *fuse_overlayfs; /* the fuse-overlayfs binary when it is usable, else NULL */
  /* Caps of the tmpfs mounts sbx makes, as tmpfs's "size=" option takes
   * them: "N%" of the RAM or a number of bytes (sbx_spec_parse_tmpfs_size). */
  char *upper_size;          /* the throwaway writable layer */
  gboolean upper_size_given; /* --upper-size was given (refused with a kept layer) */
  char *tmp_size;            /* /tmp, /var/tmp, /run, a --tmpfs without SIZE */
  char *shm_size;            /* /dev/shm */

  /* network */
  SbxNetMode net;
  GPtrArray *publish;           /* SbxPublish* */
  GPtrArray *created;           /* directories the monitor made for this run, oldest first */
  gboolean allow_host_loopback; /* 10.0.2.2 reaches the host's 127.0.0.1 */
  guint mtu;                    /* of tap0 */
  gboolean mtu_given;           /* --mtu was given (refused without tap0) */
  gboolean no_ipv6;
  /* The egress policy, enforced by sbx-net (netpolicy.h): the rules as
   * typed, checked when given; sbx-net parses them again. */
  GPtrArray *net_allow; /* char*: --allow-net */
  GPtrArray *net_deny;  /* char*: --deny-net */
  char *net_allow_host; /* the first --allow-net that is the preset "host", or NULL */
  char *net_log;        /* --net-log FILE, or NULL */

  /* resources (cgroup.c) */
  guint64 memory;     /* --memory, bytes; 0: none */
  char *memory_text;  /* as typed, for messages */
  guint64 cpu_quota;  /* --cpus as CPU time per second, in microseconds; 0: none */
  guint64 pids_limit; /* 0: none */
  guint64 io_weight;  /* 1..10000; 0: none */

  /* security (security.c) */
  guint64 cap_add;      /* --cap-add: CAP_* bits */
  guint64 cap_drop;     /* --cap-drop */
  gboolean cap_add_all; /* --cap-add ALL */
  gboolean cap_drop_all;
  gboolean seccomp_unconfined; /* --seccomp=unconfined */

  /* named sandboxes (state.c) */
  char *name; /* --name: listed by ps, joinable by exec, writable layer kept */
  /* --review: the layer is kept as a named sandbox's (--name's, or a free
   * name sbx chose, name_generated) and reviewed when the command ends. */
  gboolean review;
  gboolean name_generated; /* the name is --review's own: no default hostname */

  /* process */
  char *hostname; /* NULL: keep the host's */
  GPtrArray *env; /* "K=V" strings, applied in order */
  gboolean clearenv;
  gboolean share_tty;
  gboolean no_pty; /* --no-pty: no pty of the sandbox's own even on a terminal */
  gboolean has_timens_offsets;
  gint64 monotonic_offset;
  gint64 boottime_offset;
  gboolean verbose;
  char *profile; /* --profile NAME, applied under the command line (cli.c) */

  /* The command and its arguments (NULL-terminated). */
  char **argv;
} SbxSpec;

SbxSpec *sbx_spec_new (void);
void sbx_spec_free (SbxSpec *spec);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (SbxSpec, sbx_spec_free)

/* Sets one `sbx run` option by its long name (without "--").  @value is NULL
 * for flags.  Used by the command line and by profiles alike, so that both
 * accept and reject exactly the same values. */
typedef gboolean (*SbxOptionSetter) (SbxSpec *spec, const char *value, GError **error);

typedef struct
{
  const char *long_name;
  char short_name;
  gboolean takes_value;
  const char *group; /* "identity", "filesystem", ... as in --help and the man page */
  const char *value_name;
  const char *help;
  SbxOptionSetter set;
  gboolean repeatable; /* may be given several times; a list in a profile */
  gboolean on_off;     /* every option without a value: alone, or =true|false|yes|no|1|0
                         (the setter parses it with sbx_spec_parse_on_off) */
} SbxOption;

/* The `sbx run` options, terminated by an entry with long_name == NULL. */
const SbxOption *sbx_spec_options (void);
const SbxOption *sbx_spec_find_option (const char *long_name);

/* Checks what can only be checked once every option is known, and against the
 * host (paths exist, are directories, a kept layer is one...).  Nothing is
 * created: the directories a run needs are made by the monitor
 * (monitor.c).  An error of SBX_SPEC_ERROR_USAGE is the command line's
 * (options that contradict each other), SBX_SPEC_ERROR_HOST the host's. */
gboolean sbx_spec_validate (SbxSpec *spec, GError **error);

/* The working directory the command should start in: the one asked for, else
 * the caller's cwd. */
const char *sbx_spec_wanted_workdir (const SbxSpec *spec);

/* Pure parsers, exported for the unit tests. */
gboolean sbx_spec_parse_bind (const char *text, gboolean force_ro, SbxMount **out, GError **error);
gboolean sbx_spec_parse_tmpfs (const char *text, SbxMount **out, GError **error);
gboolean sbx_spec_parse_tmpfs_size (const char *option, const char *text, char **out,
                                    GError **error);
gboolean sbx_spec_hostname_valid (const char *name);
gboolean sbx_spec_parse_publish (const char *text, SbxPublish **out, GError **error);
gboolean sbx_spec_parse_cpus (const char *text, guint64 max_cpus, guint64 *usec);
/* The value of an on/off option: NULL (the option alone) is on; else one of
 * true, false, yes, no, 1, 0 (DESIGN.md), nothing else. */
gboolean sbx_spec_parse_on_off (const char *option, const char *value, gboolean *on,
                                GError **error);
/* Whether @dst (absolute, canonical) is a place sbx mounts itself and a
 * --bind or --tmpfs may not cover: /, /proc, /dev, /sys and what sbx
 * mounts there (docs/decisions.md).  Sets @error naming @option and @text. */
gboolean sbx_spec_check_mount_dst (const char *option, const char *text, const char *dst,
                                   GError **error);
/* Whether @name is an environment variable name: letters, digits and '_',
 * not starting with a digit (POSIX's portable names). */
gboolean sbx_spec_env_name_valid (const char *name, size_t len);
/* Whether sbx-net enforces or logs an egress policy: a rule or --net-log. */
gboolean sbx_spec_has_net_policy (const SbxSpec *spec);
/* Whether any --memory, --cpus, --pids-limit or --io-weight was given. */
gboolean sbx_spec_has_limits (const SbxSpec *spec);
/* The limits as "memory=64M", "cpus=0.5", "pids=100", "io-weight=50". */
char **sbx_spec_limits_strv (const SbxSpec *spec);
void sbx_publish_free (SbxPublish *publish);
void sbx_mount_free (SbxMount *mount);

/* The defaults of --upper-size, --tmp-size and --shm-size (docs/decisions.md
 * says why these): a sandbox pins at most about 55% of the RAM plus 64 MiB in
 * its own tmpfs mounts. */
#define SBX_UPPER_SIZE_DEFAULT "25%"
#define SBX_TMP_SIZE_DEFAULT   "10%"
#define SBX_SHM_SIZE_DEFAULT   "67108864" /* 64M, as podman */

/* The MTU of tap0: libslirp 4.7 has no TCP window scaling, so a segment of
 * the largest MTU (65520) fills its whole window; half of it measured
 * faster both ways (docs/decisions.md, tests/bench/net --only mtu). */
#define SBX_MTU_DEFAULT 32768

/* The errors of options and of their validation: a usage error is the
 * command line's (a bad value, options that contradict each other: "Try
 * 'sbx run --help'" follows it), a host error is the host's (a missing
 * bind source, a directory that is not a layer: no hint, the message says
 * it all), a profile error a profile's ("PATH:LINE: key: what"). */
typedef enum
{
  SBX_SPEC_ERROR_USAGE,
  SBX_SPEC_ERROR_HOST,
  SBX_SPEC_ERROR_PROFILE,
} SbxSpecErrorCode;

#define SBX_SPEC_ERROR (sbx_spec_error_quark ())
GQuark sbx_spec_error_quark (void);
