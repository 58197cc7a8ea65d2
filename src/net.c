/* SPDX-License-Identifier: GPL-2.0-or-later */
/* net.c: the sandbox's network namespace. */
#include "config.h"

#include "net.h"
#include "util.h"

#include <net/if.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>

/* Sets IFF_UP on @ifname with the classic ioctls: one interface flag needs
 * no netlink conversation. */
static gboolean
link_up (int sock, const char *ifname)
{
  struct ifreq ifr = { 0 };

  g_strlcpy (ifr.ifr_name, ifname, sizeof ifr.ifr_name);
  if (ioctl (sock, SIOCGIFFLAGS, &ifr) < 0)
    return FALSE;
  ifr.ifr_flags |= IFF_UP;
  return ioctl (sock, SIOCSIFFLAGS, &ifr) == 0;
}

void
sbx_net_setup_loopback (void)
{
  cleanup_fd int sock = socket (AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (sock < 0 || !link_up (sock, "lo"))
    sbx_die_errno ("cannot bring up lo");
}
