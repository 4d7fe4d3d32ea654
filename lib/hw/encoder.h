/* Internal side of nl_hwenc (the public encode context in hwenc.h).
 *
 * A transcoder opens its VAAPI device once and shares it between its decoder
 * and its encoder, so the encoder can be opened on a device reference it is
 * given (or told that the device already failed, and why, so the fallback
 * reason names the real step). */
#ifndef NL_HW_ENCODER_H
#define NL_HW_ENCODER_H

#include <libavutil/buffer.h>

#include "neolink/hwenc.h"

/* Default deadline when an owner arena's destruction closes an encoder. */
#define NL_HWENC_OWNER_CLOSE_MS 2000u
/* Byte cap of an encoder's own arena (struct, strings, cleanup records). */
#define NL_HWENC_ARENA_CAP (64u * 1024u)

/* Like nl_hwenc_open, without an owner arena, with the device step already
 * done by the caller: dev (borrowed; the encoder takes its own reference) is
 * the open device, or NULL with dev_reason saying why the device step failed
 * (dev_reason NULL too: the encoder opens the device itself). */
int nl__hwenc_open_on(nl_hwenc **out, nl_ctx *ctx, const nl_hwenc_config *cfg, AVBufferRef *dev,
                      const char *dev_reason);

/* Output size and frames are checked against these. */
#define NL_HWENC_MIN_SIDE 16
#define NL_HWENC_MAX_SIDE 8192

#endif
