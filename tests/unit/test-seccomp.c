/* SPDX-License-Identifier: GPL-2.0-or-later */
/* test-seccomp.c: evaluates the built-in system call filter, the program
 * sbx loads (sbx_security_seccomp_program and both variants it picks
 * from), in a small classic-BPF interpreter on synthetic struct
 * seccomp_data, and checks the decision for every documented denied call,
 * for ordinary calls, for the foreign ABIs and for the terminal ioctls.
 *
 * Why not only from inside a sandbox (test-escape.sh): where the kernel
 * itself refuses a call with EPERM (init_module without CAP_SYS_MODULE,
 * acct, syslog under dmesg_restrict...), a run cannot tell the filter's
 * EPERM from the kernel's; and a foreign ABI or a crafted ioctl request
 * cannot be tried on every host.  Here the filter's own answer is read.
 *
 * Prints TAP itself (one line per decision, titled with what it proves). */
#include "config.h"

#include "security.h"

#include <errno.h>
#include <glib.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>

#define RET_EPERM (SECCOMP_RET_ERRNO | EPERM)
#define RET_ALLOW SECCOMP_RET_ALLOW

/* What the interpreter returns for a program it refuses to run (an
 * instruction the kernel's checker would reject, a jump out of range):
 * wider than 32 bits, so that no return value of a program is mistaken
 * for it, and no check expects it. */
#define RET_BAD G_GUINT64_CONSTANT (0x100000000)

/* --- TAP ---------------------------------------------------------------------- */

static int tap_n, tap_failed;

static void tap (gboolean pass, const char *fmt, ...) G_GNUC_PRINTF (2, 3);
static void tap_skip (const char *fmt, ...) G_GNUC_PRINTF (1, 2);

static void
tap (gboolean pass, const char *fmt, ...)
{
  va_list ap;
  va_start (ap, fmt);
  g_autofree char *title = g_strdup_vprintf (fmt, ap);
  va_end (ap);
  tap_n++;
  if (!pass)
    tap_failed++;
  printf ("%s %d - %s\n", pass ? "ok" : "not ok", tap_n, title);
}

static void
tap_skip (const char *fmt, ...)
{
  va_list ap;
  va_start (ap, fmt);
  g_autofree char *reason = g_strdup_vprintf (fmt, ap);
  va_end (ap);
  printf ("ok %d # SKIP %s\n", ++tap_n, reason);
}

/* --- the interpreter ------------------------------------------------------------ */

/* Runs @prog on @data as the kernel does (net/core/filter.c, with the
 * loads seccomp allows: 32-bit words of struct seccomp_data at aligned
 * offsets, and its length).  Anything else, or a program that runs off its
 * end, gives RET_BAD: the filter must not depend on what this interpreter
 * does not know. */
static guint64
run_filter (const struct sock_fprog *prog, const struct seccomp_data *data)
{
  guint32 a = 0, x = 0, mem[BPF_MEMWORDS] = { 0 };

  for (guint pc = 0; pc < prog->len; pc++)
    {
      const struct sock_filter *in = &prog->filter[pc];
      guint32 k = in->k;
      guint32 src = BPF_SRC (in->code) == BPF_X ? x : k;

      switch (BPF_CLASS (in->code))
        {
        case BPF_LD:
        case BPF_LDX:
          {
            guint32 v;
            if (in->code == (BPF_LD | BPF_W | BPF_ABS))
              {
                if (k % 4 != 0 || k > sizeof *data - 4)
                  return RET_BAD;
                memcpy (&v, (const char *)data + k, 4);
              }
            else if (BPF_MODE (in->code) == BPF_IMM && BPF_SIZE (in->code) == BPF_W)
              v = k;
            else if (BPF_MODE (in->code) == BPF_MEM && BPF_SIZE (in->code) == BPF_W)
              {
                if (k >= BPF_MEMWORDS)
                  return RET_BAD;
                v = mem[k];
              }
            else if (BPF_MODE (in->code) == BPF_LEN && BPF_SIZE (in->code) == BPF_W)
              v = sizeof *data;
            else
              return RET_BAD;
            if (BPF_CLASS (in->code) == BPF_LD)
              a = v;
            else
              x = v;
            break;
          }
        case BPF_ST:
        case BPF_STX:
          if (in->code != BPF_ST && in->code != BPF_STX)
            return RET_BAD;
          if (k >= BPF_MEMWORDS)
            return RET_BAD;
          mem[k] = BPF_CLASS (in->code) == BPF_ST ? a : x;
          break;
        case BPF_ALU:
          switch (BPF_OP (in->code))
            {
            case BPF_ADD:
              a += src;
              break;
            case BPF_SUB:
              a -= src;
              break;
            case BPF_MUL:
              a *= src;
              break;
            case BPF_DIV:
            case BPF_MOD:
              /* The checker refuses a constant 0; a 0 in X ends the
               * program with 0 (SECCOMP_RET_KILL_THREAD). */
              if (src == 0)
                return BPF_SRC (in->code) == BPF_K ? RET_BAD : 0;
              a = BPF_OP (in->code) == BPF_DIV ? a / src : a % src;
              break;
            case BPF_AND:
              a &= src;
              break;
            case BPF_OR:
              a |= src;
              break;
            case BPF_XOR:
              a ^= src;
              break;
            case BPF_LSH:
            case BPF_RSH:
              /* The checker refuses a constant of 32 or more; what a
               * shift by X that large gives is not defined here. */
              if (src >= 32)
                return RET_BAD;
              a = BPF_OP (in->code) == BPF_LSH ? a << src : a >> src;
              break;
            case BPF_NEG:
              a = -a;
              break;
            default:
              return RET_BAD;
            }
          break;
        case BPF_JMP:
          {
            guint skip;
            switch (BPF_OP (in->code))
              {
              case BPF_JA:
                skip = k;
                break;
              case BPF_JEQ:
                skip = a == src ? in->jt : in->jf;
                break;
              case BPF_JGT:
                skip = a > src ? in->jt : in->jf;
                break;
              case BPF_JGE:
                skip = a >= src ? in->jt : in->jf;
                break;
              case BPF_JSET:
                skip = (a & src) != 0 ? in->jt : in->jf;
                break;
              default:
                return RET_BAD;
              }
            /* Forward only, and within the program (the checker's rule). */
            if (skip >= prog->len - pc - 1)
              return RET_BAD;
            pc += skip;
            break;
          }
        case BPF_RET:
          if (BPF_RVAL (in->code) == BPF_K)
            return k;
          if (BPF_RVAL (in->code) == BPF_A)
            return a;
          return RET_BAD;
        case BPF_MISC:
          if (BPF_MISCOP (in->code) == BPF_TAX)
            x = a;
          else if (BPF_MISCOP (in->code) == BPF_TXA)
            a = x;
          else
            return RET_BAD;
          break;
        default:
          return RET_BAD;
        }
    }
  return RET_BAD; /* off the end: the checker wants a RET last */
}

static const char *
describe (guint64 ret)
{
  static char buf[64];
  if (ret == RET_BAD)
    return "a program the interpreter refuses";
  if (ret == RET_ALLOW)
    return "ALLOW";
  if ((ret & SECCOMP_RET_ACTION_FULL) == SECCOMP_RET_ERRNO)
    {
      const char *name = strerrorname_np ((int)(ret & SECCOMP_RET_DATA));
      g_snprintf (buf, sizeof buf, "ERRNO(%s)", name != NULL ? name : "?");
    }
  else
    g_snprintf (buf, sizeof buf, "0x%08x", (guint)ret);
  return buf;
}

/* --- the cases ---------------------------------------------------------------------- */

#if defined(__x86_64__)
#define NATIVE_ARCH AUDIT_ARCH_X86_64
#elif defined(__aarch64__)
#define NATIVE_ARCH AUDIT_ARCH_AARCH64
#elif defined(__i386__)
#define NATIVE_ARCH AUDIT_ARCH_I386
#elif defined(__riscv) && __riscv_xlen == 64
#define NATIVE_ARCH AUDIT_ARCH_RISCV64
#elif defined(__powerpc64__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define NATIVE_ARCH AUDIT_ARCH_PPC64LE
#elif defined(__s390x__)
#define NATIVE_ARCH AUDIT_ARCH_S390X
#endif

/* clang-format off */
#define CALL(name) { #name, __NR_##name }
#define ABSENT(name) { #name, -1 }
/* clang-format on */

typedef struct
{
  const char *name;
  int nr; /* -1: not a system call on this architecture */
} Call;

/* Every call docs/security.md ("The system call filter") and
 * src/seccomp-rules.c say is denied, written out again here: the test
 * holds the filter to the documentation, not to its own list. */
static const Call denied[] = {
  CALL (keyctl),
  CALL (add_key),
  CALL (request_key),
  CALL (bpf),
  CALL (perf_event_open),
  CALL (kexec_load),
#ifdef __NR_kexec_file_load
  CALL (kexec_file_load),
#else
  ABSENT (kexec_file_load),
#endif
  CALL (init_module),
  CALL (finit_module),
  CALL (delete_module),
  CALL (open_by_handle_at),
  CALL (io_uring_setup),
  CALL (io_uring_enter),
  CALL (io_uring_register),
  CALL (acct),
#ifdef __NR_lookup_dcookie
  CALL (lookup_dcookie),
#else
  ABSENT (lookup_dcookie),
#endif
#ifdef __NR_nfsservctl
  CALL (nfsservctl),
#else
  ABSENT (nfsservctl),
#endif
#ifdef __NR_uselib
  CALL (uselib),
#else
  ABSENT (uselib),
#endif
#ifdef __NR_vm86
  CALL (vm86),
#else
  ABSENT (vm86),
#endif
#ifdef __NR_vm86old
  CALL (vm86old),
#else
  ABSENT (vm86old),
#endif
  CALL (quotactl),
  CALL (swapon),
  CALL (swapoff),
  CALL (reboot),
  CALL (settimeofday),
  CALL (clock_settime),
#ifdef __NR_stime
  CALL (stime),
#else
  ABSENT (stime),
#endif
  CALL (syslog),
};

/* Calls a sandboxed program makes every day, and those the design allows
 * on purpose (nested namespaces, mounts in them: docs/security.md). */
static const Call allowed[] = {
  CALL (read),       CALL (write),      CALL (openat),  CALL (close),   CALL (getpid),
  CALL (mmap),       CALL (execve),     CALL (clone),   CALL (clone3),  CALL (exit_group),
  CALL (socket),     CALL (connect),    CALL (unshare), CALL (setns),   CALL (mount),
  CALL (umount2),    CALL (pivot_root), CALL (chroot),  CALL (mknodat), CALL (prctl),
  CALL (seccomp),    CALL (ptrace),     CALL (setuid),  CALL (capset),  CALL (memfd_create),
  CALL (membarrier),
};

static struct seccomp_data
make_data (guint32 arch, int nr)
{
  struct seccomp_data d;
  memset (&d, 0, sizeof d);
  d.nr = nr;
  d.arch = arch;
  d.instruction_pointer = G_GUINT64_CONSTANT (0x7f0000001000);
  return d;
}

/* The decision for @nr with all arguments 0 and with all bits set: no rule
 * on these calls looks at an argument, so both must agree. */
static guint64
decide (const struct sock_fprog *prog, guint32 arch, int nr)
{
  struct seccomp_data d = make_data (arch, nr);
  guint64 zero = run_filter (prog, &d);
  for (int i = 0; i < 6; i++)
    d.args[i] = G_MAXUINT64;
  guint64 ones = run_filter (prog, &d);
  return zero == ones ? zero : RET_BAD;
}

static guint64
decide_ioctl (const struct sock_fprog *prog, guint64 fd, guint64 request)
{
  struct seccomp_data d = make_data (NATIVE_ARCH, __NR_ioctl);
  d.args[0] = fd;
  d.args[1] = request;
  d.args[2] = G_GUINT64_CONSTANT (0x7ffc00001000);
  return run_filter (prog, &d);
}

static void
check_call (const struct sock_fprog *prog, const char *variant, const Call *c, guint64 want,
            const char *why)
{
  if (c->nr < 0)
    {
      tap_skip ("%s: %s: not a system call on this architecture", variant, c->name);
      return;
    }
  guint64 got = decide (prog, NATIVE_ARCH, c->nr);
  g_autofree char *got_text = g_strdup (describe (got));
  tap (got == want, "%s: %s (nr %d) -> %s%s%s", variant, c->name, c->nr, got_text,
       got == want ? why : ", want ", got == want ? "" : describe (want));
}

static void
check_program (const struct sock_fprog *prog, const char *variant, gboolean uffd_denied)
{
  /* Well formed as the kernel's checker wants it: not empty, not too
   * long, a RET last. */
  tap (prog->len > 0 && prog->len <= BPF_MAXINSNS
           && BPF_CLASS (prog->filter[prog->len - 1].code) == BPF_RET,
       "%s: %u instructions, a RET last", variant, prog->len);

  for (guint i = 0; i < G_N_ELEMENTS (denied); i++)
    check_call (prog, variant, &denied[i], RET_EPERM, " (denied, whatever the arguments)");

  Call uffd = CALL (userfaultfd);
  if (uffd_denied)
    check_call (prog, variant, &uffd, RET_EPERM, " (denied, whatever the arguments)");
  else
    check_call (prog, variant, &uffd, RET_ALLOW,
                " (for a host that allows it to unprivileged users)");

  for (guint i = 0; i < G_N_ELEMENTS (allowed); i++)
    check_call (prog, variant, &allowed[i], RET_ALLOW, "");
  Call ioctl_call = CALL (ioctl);
  check_call (prog, variant, &ioctl_call, RET_ALLOW, " (request 0: not a denied one)");

  /* The terminal ioctls.  The kernel reads the request as an unsigned int:
   * the rule must compare the low 32 bits only, or a request with high
   * bits set would pass the filter and still be TIOCSTI to the kernel. */
  static const struct
  {
    const char *title;
    guint64 request;
    guint64 want;
  } ioctls[] = {
    { "ioctl(TIOCSTI)", TIOCSTI, RET_EPERM },
    { "ioctl(TIOCSTI | 0xffffffff00000000)", TIOCSTI | G_GUINT64_CONSTANT (0xffffffff00000000),
      RET_EPERM },
    { "ioctl(TIOCSTI | 1 << 32)", TIOCSTI | G_GUINT64_CONSTANT (0x100000000), RET_EPERM },
    { "ioctl(TIOCLINUX)", TIOCLINUX, RET_EPERM },
    { "ioctl(TIOCLINUX | 0xdead000000000000)", TIOCLINUX | G_GUINT64_CONSTANT (0xdead000000000000),
      RET_EPERM },
    { "ioctl(TCGETS)", TCGETS, RET_ALLOW },
    { "ioctl(TCGETS | 0xffffffff00000000)", TCGETS | G_GUINT64_CONSTANT (0xffffffff00000000),
      RET_ALLOW },
    { "ioctl(TIOCGWINSZ)", TIOCGWINSZ, RET_ALLOW },
    { "ioctl(FIONREAD)", FIONREAD, RET_ALLOW },
    /* TIOCSTI in the high word only: a different request to the kernel. */
    { "ioctl(TIOCSTI << 32)", (guint64)TIOCSTI << 32, RET_ALLOW },
  };
  for (guint i = 0; i < G_N_ELEMENTS (ioctls); i++)
    {
      /* On any fd: the rule does not look at it. */
      guint64 got = decide_ioctl (prog, 0, ioctls[i].request);
      guint64 got_high_fd
          = decide_ioctl (prog, G_GUINT64_CONSTANT (0xffffffff00000005), ioctls[i].request);
      g_autofree char *got_text = g_strdup (describe (got));
      tap (got == ioctls[i].want && got_high_fd == got, "%s: %s -> %s%s%s", variant,
           ioctls[i].title, got_text, got == ioctls[i].want ? "" : ", want ",
           got == ioctls[i].want ? "" : describe (ioctls[i].want));
    }

#if defined(__x86_64__)
  /* The 32-bit ABI (int 0x80, sysenter) and x32: every call fails, the
   * ones the native rules allow too. */
  static const struct
  {
    const char *title;
    guint32 arch;
    int nr;
  } foreign[] = {
    { "i386 getpid (int 0x80, nr 20)", AUDIT_ARCH_I386, 20 },
    { "i386 read (nr 3)", AUDIT_ARCH_I386, 3 },
    { "i386 keyctl (nr 288)", AUDIT_ARCH_I386, 288 },
    { "x32 read (nr 0x40000000)", AUDIT_ARCH_X86_64, 0x40000000 },
    { "x32 getpid (nr 0x40000027)", AUDIT_ARCH_X86_64, 0x40000000 | __NR_getpid },
    { "x32 rt_sigaction (nr 0x40000200)", AUDIT_ARCH_X86_64, 0x40000000 | 512 },
    { "x32 keyctl (nr 0x400000fa)", AUDIT_ARCH_X86_64, 0x40000000 | __NR_keyctl },
  };
  for (guint i = 0; i < G_N_ELEMENTS (foreign); i++)
    {
      guint64 got = decide (prog, foreign[i].arch, foreign[i].nr);
      tap (got == RET_EPERM, "%s: %s -> %s (a foreign ABI)", variant, foreign[i].title,
           describe (got));
    }
#endif
  /* An architecture the filter was not built for at all. */
  guint64 got = decide (prog, AUDIT_ARCH_ARM, __NR_getpid);
  tap (got == RET_EPERM, "%s: getpid of another architecture (ARM) -> %s", variant, describe (got));
}

int
main (void)
{
#ifndef NATIVE_ARCH
  printf ("1..0 # SKIP no audit architecture known for this build\n");
  return 0;
#else
  struct sock_fprog prog;
  g_autofree struct sock_filter *deny = NULL, *allow = NULL;
  guint deny_len, allow_len;

  /* Both variants, copied out: the storage may be shared between calls. */
  sbx_security_seccomp_variant (&prog, TRUE);
  deny = g_memdup2 (prog.filter, prog.len * sizeof *prog.filter);
  deny_len = prog.len;
  sbx_security_seccomp_variant (&prog, FALSE);
  allow = g_memdup2 (prog.filter, prog.len * sizeof *prog.filter);
  allow_len = prog.len;

  /* What sbx loads on this host is one of them, picked by the sysctl:
   * byte for byte, so that the two below cover it. */
  g_autofree char *text = NULL;
  gboolean host_allows
      = g_file_get_contents ("/proc/sys/vm/unprivileged_userfaultfd", &text, NULL, NULL)
        && text[0] == '1';
  sbx_security_seccomp_program (&prog);
  guint want_len = host_allows ? allow_len : deny_len;
  tap (prog.len == want_len
           && memcmp (prog.filter, host_allows ? allow : deny, want_len * sizeof *prog.filter) == 0,
       "sbx_security_seccomp_program: the variant for this host (vm.unprivileged_userfaultfd "
       "%s)",
       host_allows ? "1: userfaultfd allowed" : "not 1: userfaultfd denied");

  prog = (struct sock_fprog){ .len = (unsigned short)deny_len, .filter = deny };
  check_program (&prog, "userfaultfd-denied variant", TRUE);
  prog = (struct sock_fprog){ .len = (unsigned short)allow_len, .filter = allow };
  check_program (&prog, "userfaultfd-allowed variant", FALSE);

  /* The interpreter itself, on a program written for it: every
   * instruction class libseccomp may emit, each on a path where a wrong
   * result would end in another RET. */
  struct sock_filter all[] = {
    BPF_STMT (BPF_LD | BPF_W | BPF_LEN, 0),
    BPF_JUMP (BPF_JMP | BPF_JEQ | BPF_K, sizeof (struct seccomp_data), 1, 0),
    BPF_STMT (BPF_RET | BPF_K, 1),
    BPF_STMT (BPF_LD | BPF_W | BPF_ABS, offsetof (struct seccomp_data, nr)), /* 7 */
    BPF_STMT (BPF_ST, 0),
    BPF_STMT (BPF_ALU | BPF_ADD | BPF_K, 3),    /* 10 */
    BPF_STMT (BPF_ALU | BPF_MUL | BPF_K, 4),    /* 40 */
    BPF_STMT (BPF_ALU | BPF_SUB | BPF_K, 8),    /* 32 */
    BPF_STMT (BPF_ALU | BPF_DIV | BPF_K, 4),    /* 8 */
    BPF_STMT (BPF_ALU | BPF_MOD | BPF_K, 5),    /* 3 */
    BPF_STMT (BPF_ALU | BPF_LSH | BPF_K, 4),    /* 48 */
    BPF_STMT (BPF_ALU | BPF_RSH | BPF_K, 1),    /* 24 */
    BPF_STMT (BPF_ALU | BPF_OR | BPF_K, 1),     /* 25 */
    BPF_STMT (BPF_ALU | BPF_XOR | BPF_K, 0x10), /* 9 */
    BPF_STMT (BPF_ALU | BPF_AND | BPF_K, 0xd),  /* 9 */
    BPF_STMT (BPF_MISC | BPF_TAX, 0),           /* X = 9 */
    BPF_STMT (BPF_LD | BPF_MEM, 0),             /* 7 */
    BPF_STMT (BPF_ALU | BPF_ADD | BPF_X, 0),    /* 16 */
    BPF_STMT (BPF_STX, 1),
    BPF_STMT (BPF_LDX | BPF_W | BPF_IMM, 0),
    BPF_STMT (BPF_LDX | BPF_MEM, 1), /* X = 9 again */
    BPF_JUMP (BPF_JMP | BPF_JGT | BPF_X, 0, 1, 0),
    BPF_STMT (BPF_RET | BPF_K, 2),
    BPF_JUMP (BPF_JMP | BPF_JGE | BPF_K, 16, 1, 0),
    BPF_STMT (BPF_RET | BPF_K, 3),
    BPF_JUMP (BPF_JMP | BPF_JSET | BPF_K, 0x10, 1, 0),
    BPF_STMT (BPF_RET | BPF_K, 4),
    BPF_JUMP (BPF_JMP | BPF_JEQ | BPF_X, 0, 0, 1),
    BPF_STMT (BPF_RET | BPF_K, 5),
    BPF_STMT (BPF_JMP | BPF_JA, 1),
    BPF_STMT (BPF_RET | BPF_K, 6),
    BPF_STMT (BPF_ALU | BPF_NEG, 0), /* 0xfffffff0 */
    BPF_STMT (BPF_LDX | BPF_W | BPF_IMM, 0x10),
    BPF_STMT (BPF_ALU | BPF_ADD | BPF_X, 0), /* 0 */
    BPF_STMT (BPF_MISC | BPF_TXA, 0),        /* 0x10 */
    BPF_STMT (BPF_ALU | BPF_ADD | BPF_K, 0x1224),
    BPF_STMT (BPF_RET | BPF_A, 0),
  };
  struct sock_fprog all_prog = { G_N_ELEMENTS (all), all };
  struct seccomp_data seven = make_data (NATIVE_ARCH, 7);
  guint64 all_ret = run_filter (&all_prog, &seven);
  tap (all_ret == 0x1234,
       "the interpreter: loads, scratch memory, every ALU operation, TAX/TXA, every jump and "
       "RET A give 0x1234 (got 0x%" G_GINT64_MODIFIER "x)",
       all_ret);

  /* The interpreter refuses what it does not know: a program that
   * runs off its end, and one with an unknown instruction. */
  struct sock_filter no_ret[] = { BPF_STMT (BPF_LD | BPF_W | BPF_ABS, 0) };
  struct sock_filter unknown[]
      = { BPF_STMT (BPF_LD | BPF_W | BPF_IND, 0), BPF_STMT (BPF_RET | BPF_K, RET_ALLOW) };
  struct sock_filter far_load[]
      = { BPF_STMT (BPF_LD | BPF_W | BPF_ABS, 64), BPF_STMT (BPF_RET | BPF_K, RET_ALLOW) };
  struct seccomp_data d = make_data (NATIVE_ARCH, __NR_getpid);
  struct sock_fprog bad1 = { G_N_ELEMENTS (no_ret), no_ret };
  struct sock_fprog bad2 = { G_N_ELEMENTS (unknown), unknown };
  struct sock_fprog bad3 = { G_N_ELEMENTS (far_load), far_load };
  tap (run_filter (&bad1, &d) == RET_BAD && run_filter (&bad2, &d) == RET_BAD
           && run_filter (&bad3, &d) == RET_BAD,
       "the interpreter refuses a program without a RET, an indirect load, a load past "
       "seccomp_data");

  printf ("1..%d\n", tap_n);
  return tap_failed == 0 ? 0 : 1;
#endif
}
