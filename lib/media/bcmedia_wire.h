/* BcMedia wire format (baichuan.md §5.2-5.3): packet magics, header layouts,
 * padding, and the plausibility rules the demuxer uses to find its way back
 * into a damaged stream. Shared by the demuxer and the serializer. */
#ifndef NL_MEDIA_BCMEDIA_WIRE_H
#define NL_MEDIA_BCMEDIA_WIRE_H

#include <stddef.h>
#include <stdint.h>

#include "neolink/media.h"

#define NL_BCM_INFO_LEN         32
#define NL_BCM_VIDEO_HDR_LEN    24
#define NL_BCM_AUDIO_HDR_LEN    8
#define NL_BCM_ADPCM_SUBHDR_LEN 4
#define NL_BCM_ADPCM_SUBMAGIC   0x0100 /* bytes 00 01 */

/* Caps. Real additional headers are 0, 8 or 16 bytes; real frames are far
 * below 4 MiB (a 4K I-frame is a few hundred KiB). */
#define NL_BCM_MAX_EXTRA         NL_MEDIA_EXTRA_MAX
#define NL_BCM_MAX_VIDEO_PAYLOAD (4u << 20)
#define NL_BCM_MAX_DIM           16384
/* Longest header plus the payload bytes peeked at while resynchronising. */
#define NL_BCM_PEEK_MAX 4
#define NL_BCM_MAX_HDR  (NL_BCM_VIDEO_HDR_LEN + NL_BCM_MAX_EXTRA + NL_BCM_PEEK_MAX)

/* Padding after a payload of n bytes (to a multiple of 8). */
static inline uint32_t nl__bcm_pad(uint32_t n)
{
    return (8u - n % 8u) % 8u;
}

/* A parsed header. payload_len is what the demuxer copies into the packet:
 * the elementary stream (video), the ADTS bytes (AAC), or the DVI block
 * after the 4-byte sub-header (ADPCM). */
typedef struct nl__bcm_hdr {
    nl_media_kind kind;
    nl_media_codec codec;
    unsigned channel;      /* video magic digit */
    uint32_t hdr_len;      /* bytes before the payload */
    uint32_t payload_size; /* the size field on the wire */
    uint32_t payload_len;  /* bytes of payload that go into the packet */
    uint32_t pad_len;      /* bytes of padding after it */
    uint32_t ts_us;        /* video */
    uint32_t unknown20;    /* video */
    uint32_t extra_len;    /* video */
    uint8_t extra[NL_BCM_MAX_EXTRA];
    uint16_t adpcm_half_block; /* ADPCM bytes 10..11, ignored (§5.3) */
    nl_media_info info;        /* Info */
} nl__bcm_hdr;

/* Quick test used while scanning garbage: can a packet start at p, judging
 * by the first min(n, 4) bytes? */
int nl__bcm_magic_prefix_ok(const uint8_t *p, size_t n);

/* Parses the header at p[0..n).
 *  strict = 0: trust the stream (it was in sync): check the magic, codec and
 *              size rules only.
 *  strict = 1: after garbage: also require plausible dates (Info) and peek at
 *              the payload: an Annex-B start code (video), an ADTS sync word
 *              (AAC), a step index <= 88 (ADPCM).
 * Returns the header length (> 0) when the header is complete and valid;
 * 0 when more bytes are needed (*need = total bytes to have at p, larger
 * than n); NL_EPROTO when no packet starts at p. Bytes past the returned
 * header length that were needed for peeking belong to the payload.
 * max_video caps video payloads (<= NL_BCM_MAX_VIDEO_PAYLOAD). */
int nl__bcm_parse_header(const uint8_t *p, size_t n, int strict, uint32_t max_video, nl__bcm_hdr *h,
                         size_t *need);

static inline uint32_t nl__bcm_rd32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static inline uint16_t nl__bcm_rd16(const uint8_t *p)
{
    return (uint16_t)(p[0] | p[1] << 8);
}

static inline void nl__bcm_wr32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
    p[2] = (uint8_t)(v >> 16);
    p[3] = (uint8_t)(v >> 24);
}

static inline void nl__bcm_wr16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
}

#endif
