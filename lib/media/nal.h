/* H.264/H.265 Annex-B helpers: start-code scanning, NAL unit types, a cache
 * of the latest parameter sets, and putting those sets in front of a key
 * frame that lacks them (an RTSP client's first frame must carry them, and
 * the rtp muxer only sets the marker bit right when one write is one AU). */
#ifndef NL_MEDIA_NAL_H
#define NL_MEDIA_NAL_H

#include <stddef.h>
#include <stdint.h>

#include <libavcodec/packet.h>

#include "neolink/media.h"

/* H.264 nal_unit_type values we use. */
enum {
    NL_H264_NAL_SLICE = 1,
    NL_H264_NAL_IDR = 5,
    NL_H264_NAL_SEI = 6,
    NL_H264_NAL_SPS = 7,
    NL_H264_NAL_PPS = 8,
    NL_H264_NAL_AUD = 9,
};

/* H.265 nal_unit_type values we use. */
enum {
    NL_H265_NAL_BLA_W_LP = 16,
    NL_H265_NAL_CRA = 21,
    NL_H265_NAL_VPS = 32,
    NL_H265_NAL_SPS = 33,
    NL_H265_NAL_PPS = 34,
    NL_H265_NAL_AUD = 35,
};

/* One NAL unit inside an Annex-B buffer (no start code, trailing zeros cut). */
typedef struct nl__nal {
    const uint8_t *data;
    size_t size;
    int type; /* nal_unit_type, -1 for an empty unit */
} nl__nal;

/* Offset just past the next 00 00 01 start code at or after `from`, or len
 * when there is none. */
size_t nl__nal_find_start(const uint8_t *buf, size_t len, size_t from);

/* End of the NAL unit starting at `start`: the offset before the next start
 * code with trailing zero bytes cut. *next (may be NULL) gets the offset of
 * that start code (or len), where the search for the next unit resumes. */
size_t nl__nal_find_end(const uint8_t *buf, size_t len, size_t start, size_t *next);

/* Iterates the units of buf: *pos starts at 0. Returns 1 and fills *nal, or
 * 0 at the end. Scans each unit fully; for "stop at the first slice" loops
 * use nl__nal_find_start + nl__nal_type instead. */
int nl__nal_next(nl_media_codec codec, const uint8_t *buf, size_t len, size_t *pos, nl__nal *nal);

/* nal_unit_type from a unit's first byte. */
int nl__nal_type(nl_media_codec codec, uint8_t first_byte);
/* Coded slice data (VCL)? */
int nl__nal_is_vcl(nl_media_codec codec, int type);
/* A picture a decoder can start from (H.264 IDR, H.265 IRAP)? */
int nl__nal_is_keyframe(nl_media_codec codec, int type);

/* Which parameter set a unit is: NL__PS_VPS/SPS/PPS, or -1. */
enum { NL__PS_VPS = 0, NL__PS_SPS = 1, NL__PS_PPS = 2, NL__PS_COUNT = 3 };
int nl__nal_pset_kind(nl_media_codec codec, int type);

/* Largest parameter set kept (real ones are tens to a few hundred bytes). */
#define NL_NAL_PSET_MAX 2048

/* The latest VPS/SPS/PPS seen in one stream (one of each: Reolink streams
 * use a single id; a new set replaces the old one). */
typedef struct nl__psets {
    nl_media_codec codec;
    uint16_t len[NL__PS_COUNT];
    uint8_t data[NL__PS_COUNT][NL_NAL_PSET_MAX];
} nl__psets;

/* What the units before an access unit's first slice say. */
typedef struct nl__au_scan {
    int has[NL__PS_COUNT]; /* parameter sets present */
    int first_vcl_type;    /* -1 when there is no slice */
    size_t first_vcl_off;  /* offset of that slice's first byte (its header) */
} nl__au_scan;

/* Scans the units before the first slice (so the cost does not depend on the
 * frame size). */
void nl__au_scan_head(nl_media_codec codec, const uint8_t *au, size_t len, nl__au_scan *out);

void nl__psets_init(nl__psets *ps);
/* Stores the parameter sets found before the first slice of `au`. A codec
 * change clears the cache. Returns 1 if anything changed, else 0. Sets
 * bigger than NL_NAL_PSET_MAX are ignored. scan (may be NULL) gets what the
 * head of the access unit holds. */
int nl__psets_update(nl__psets *ps, nl_media_codec codec, const uint8_t *au, size_t len,
                     nl__au_scan *scan);
/* 1 when every set the codec needs is cached. */
int nl__psets_complete(const nl__psets *ps);
/* Writes the sets as Annex-B (00 00 00 01 before each, VPS SPS PPS order)
 * into out. Returns the length, or the length needed when out is NULL.
 * Returns NL_ETOOBIG when cap is too small. */
int nl__psets_annexb(const nl__psets *ps, uint8_t *out, size_t cap);

/* If pkt (Annex-B, codec ps->codec) is a key frame whose units before the
 * first slice lack a needed parameter set, replaces its data by the cached
 * sets followed by the original bytes (new refcounted buffer; pts, flags and
 * side data unchanged). Returns 1 when prepended, 0 when not needed,
 * NL_EAGAIN when the cache is incomplete, NL_ENOMEM. */
int nl__nal_prepend_params(const nl__psets *ps, AVPacket *pkt);

#endif
