/* BcMedia serializer: the byte layout a camera sends (baichuan.md §5.3),
 * used by the simulated camera. It follows the camera/parser rules, not the
 * quirks of neolink's own talk serializer (§5.4): padding is computed on the
 * payload_size field, and the ADPCM half-block field is block/2 as in the
 * camera sample. Padding bytes are written as zeros.
 *
 * Every writer fills a caller buffer: it returns the bytes written, or
 * NL_ETOOBIG when cap is too small, NL_EINVAL for values the format cannot
 * carry. The *_size helpers give the exact length to allocate. The header
 * writers let a caller place the payload itself (e.g. straight from an
 * encoder's buffer) and add nl__bcm_pad(payload) padding bytes after it. */
#ifndef NL_MEDIA_BCMEDIA_WRITE_H
#define NL_MEDIA_BCMEDIA_WRITE_H

#include <stddef.h>
#include <stdint.h>

#include "media/bcmedia_wire.h"
#include "neolink/media.h"

/* A video frame to write. I-frames get an 8-byte additional header holding
 * posix_time (u32) and 4 zero bytes, as E1/Swann cameras send; P-frames get
 * none. */
typedef struct nl__bcm_video_desc {
    int keyframe;         /* 1: I-frame "n0dc", 0: P-frame "n1dc" */
    nl_media_codec codec; /* H264 or H265 */
    unsigned channel;     /* 0..9, the magic's digit */
    uint32_t ts_us;       /* camera µs clock (wraps) */
    uint32_t posix_time;  /* I-frames: UTC seconds */
    uint32_t unknown20;   /* bytes 20..23; cameras send small values */
} nl__bcm_video_desc;

#define NL_BCM_IFRAME_EXTRA_LEN 8

size_t nl__bcm_video_size(const nl__bcm_video_desc *v, size_t payload_len);
size_t nl__bcm_aac_size(size_t adts_len);
size_t nl__bcm_adpcm_size(size_t block_len);

/* 32-byte Info packet; info->version 1 or 2 picks the magic. */
int nl__bcm_write_info(uint8_t *out, size_t cap, const nl_media_info *info);

/* Video header only (24 + extra bytes) for a payload of payload_len. */
int nl__bcm_write_video_header(uint8_t *out, size_t cap, const nl__bcm_video_desc *v,
                               size_t payload_len);
/* Whole video packet: header, payload, padding. */
int nl__bcm_write_video(uint8_t *out, size_t cap, const nl__bcm_video_desc *v,
                        const uint8_t *payload, size_t payload_len);

/* AAC packet around one or more ADTS frames (<= 65535 bytes). */
int nl__bcm_write_aac(uint8_t *out, size_t cap, const uint8_t *adts, size_t adts_len);

/* ADPCM packet around one DVI block (header included, e.g. 244 bytes). */
int nl__bcm_write_adpcm(uint8_t *out, size_t cap, const uint8_t *block, size_t block_len);

#endif
