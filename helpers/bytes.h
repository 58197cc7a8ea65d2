/* SPDX-License-Identifier: GPL-2.0-or-later */
/* bytes.h: network-order fields of frames and DNS messages, read and
 * written at any alignment. */
#pragma once

#include <glib.h>

static inline guint
sbx_get16 (const guint8 *p)
{
  return (guint)p[0] << 8 | p[1];
}

static inline guint32
sbx_get32 (const guint8 *p)
{
  return (guint32)p[0] << 24 | (guint32)p[1] << 16 | (guint32)p[2] << 8 | p[3];
}

static inline void
sbx_put16 (guint8 *p, guint v)
{
  p[0] = (guint8)(v >> 8);
  p[1] = (guint8)v;
}

static inline void
sbx_put32 (guint8 *p, guint32 v)
{
  p[0] = (guint8)(v >> 24);
  p[1] = (guint8)(v >> 16);
  p[2] = (guint8)(v >> 8);
  p[3] = (guint8)v;
}
