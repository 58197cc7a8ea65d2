/* SPDX-License-Identifier: GPL-2.0-or-later */
/* payload.c: what a hostile sandbox plants (tests/test-hostile.sh), built
 * as a shared object (a gconv module, an NSS module, an ld.so.preload
 * library) and as a static program (a fake fuse-overlayfs or newuidmap).
 * Wherever it runs, it appends one line to SBX_LOG saying how it got there
 * (VIA), in which process, and with what: CapEff, Seccomp, NoNewPrivs and
 * its fds.  A line with Seccomp other than 2 or NoNewPrivs other than 1 is
 * an sbx process that ran the sandbox's code: an escape.  It also tries to
 * leave a file at SBX_MARK, a host path that the command itself can only
 * reach through its writable layer. */
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#ifndef VIA
#define VIA "unknown"
#endif

static void
field (const char *status, const char *name, char *out, size_t size)
{
  const char *p = strstr (status, name);
  out[0] = '\0';
  if (p == NULL)
    return;
  p += strlen (name);
  while (*p == ' ' || *p == '\t')
    p++;
  size_t n = strcspn (p, "\n");
  if (n >= size)
    n = size - 1;
  memcpy (out, p, n);
  out[n] = '\0';
}

static void
record (void)
{
  char status[8192] = "", exe[256] = "", cap[32], sec[8], nnp[8], fds[2048] = "";
  int fd = open ("/proc/self/status", O_RDONLY | O_CLOEXEC);
  if (fd >= 0)
    {
      ssize_t n = read (fd, status, sizeof status - 1);
      status[n > 0 ? n : 0] = '\0';
      close (fd);
    }
  field (status, "CapEff:", cap, sizeof cap);
  field (status, "Seccomp:", sec, sizeof sec);
  field (status, "NoNewPrivs:", nnp, sizeof nnp);
  ssize_t n = readlink ("/proc/self/exe", exe, sizeof exe - 1);
  exe[n > 0 ? n : 0] = '\0';
  DIR *d = opendir ("/proc/self/fd");
  struct dirent *e;
  while (d != NULL && (e = readdir (d)) != NULL)
    {
      char path[300], target[256];
      if (e->d_name[0] == '.')
        continue;
      snprintf (path, sizeof path, "/proc/self/fd/%s", e->d_name);
      ssize_t t = readlink (path, target, sizeof target - 1);
      target[t > 0 ? t : 0] = '\0';
      size_t used = strlen (fds);
      snprintf (fds + used, sizeof fds - used, "%s%s=%s", used ? "," : "", e->d_name, target);
    }
  if (d != NULL)
    closedir (d);

  char line[4096];
  int len = snprintf (line, sizeof line, "via=%s pid=%d exe=%s cap=%s seccomp=%s nnp=%s fds=%s\n",
                      VIA, (int)getpid (), exe, cap, sec, nnp, fds);
  fd = open (SBX_LOG, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0666);
  if (fd >= 0)
    {
      if (write (fd, line, (size_t)len) < 0)
        line[0] = '\0';
      close (fd);
    }
  char mark[512];
  snprintf (mark, sizeof mark, "%s.%d", SBX_MARK, (int)getpid ());
  fd = open (mark, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
  if (fd >= 0)
    close (fd);
}

#ifdef PROGRAM
int
main (void)
{
  record ();
  return 1;
}
#else
__attribute__ ((constructor)) static void
on_load (void)
{
  record ();
}

/* What glibc looks up in a gconv module; refusing the conversion is fine,
 * the constructor has run. */
int gconv_init (void *step);
int gconv (void *step, void **data, const unsigned char **in, const unsigned char *end,
           unsigned char **out, size_t *irreversible, int do_flush, int consume);
int
gconv_init (void *step)
{
  return 1; /* __GCONV_NOCONV */
}
int
gconv (void *step, void **data, const unsigned char **in, const unsigned char *end,
       unsigned char **out, size_t *irreversible, int do_flush, int consume)
{
  return 1;
}
#endif
