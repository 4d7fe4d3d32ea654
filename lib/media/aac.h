/* AAC in ADTS (what Reolink "05wb" packets carry) to what RTP needs: raw
 * access units plus the 2-byte AudioSpecificConfig (RFC 3640 config=). */
#ifndef NL_MEDIA_AAC_H
#define NL_MEDIA_AAC_H

#include <stddef.h>
#include <stdint.h>

#define NL_ADTS_MIN_HDR 7

typedef struct nl__adts {
    unsigned hdr_len;        /* 7, or 9 with CRC */
    unsigned frame_len;      /* header + payload */
    unsigned object_type;    /* MPEG-4 audio object type (profile + 1); 2 = AAC LC */
    unsigned sf_index;       /* sampling_frequency_index 0..12 */
    unsigned sample_rate;    /* Hz */
    unsigned channel_config; /* 1..7 */
    unsigned channels;       /* 1..8 */
    unsigned raw_blocks;     /* raw data blocks in the frame (1..4) */
} nl__adts;

/* Parses the ADTS header at p (len bytes available from p). Returns 0 and
 * fills *h; NL_EAGAIN when len is shorter than the header or the frame;
 * NL_EPROTO when this is no ADTS header (sync, layer, rate index, length);
 * NL_ENOTSUP for channel_config 0 (needs a PCE, which RTP's config= cannot
 * express without parsing it). */
int nl__adts_parse(const uint8_t *p, size_t len, nl__adts *h);

/* The AudioSpecificConfig for frames like h: object type, rate index,
 * channel configuration, and GASpecificConfig flags all 0. */
void nl__adts_asc(const nl__adts *h, uint8_t asc[2]);

/* Samples per channel in one frame (1024 per raw data block). */
static inline unsigned nl__adts_samples(const nl__adts *h)
{
    return 1024u * h->raw_blocks;
}

#endif
