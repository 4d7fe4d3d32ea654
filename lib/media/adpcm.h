/* Reolink ADPCM: IMA/DVI-4 blocks with the nibbles in HIGH-first order.
 *
 * A block is a 4-byte header (i16 LE predictor, u8 step index 0..88, u8 0)
 * followed by packed 4-bit codes. The header holds the decoder state carried
 * over from the previous block; the header sample itself is not output, so a
 * 244-byte block is 480 samples (8000 Hz mono, 60 ms). baichuan.md §5.3 shows
 * the order on the camera sample: IMA/WAV's low-nibble-first order does not
 * end at the next block's header state, high-nibble-first does. */
#ifndef NL_MEDIA_ADPCM_H
#define NL_MEDIA_ADPCM_H

#include <stddef.h>
#include <stdint.h>

#define NL_ADPCM_HDR_LEN 4
#define NL_ADPCM_RATE    8000
/* The block size Reolink cameras send: 4 + 240 bytes = 480 samples. */
#define NL_ADPCM_BLOCK_LEN     244
#define NL_ADPCM_BLOCK_SAMPLES 480

/* Codec state between samples: what a block header stores. */
typedef struct nl__adpcm_state {
    int16_t predictor;
    uint8_t index; /* 0..88 */
} nl__adpcm_state;

/* Samples a block of `len` bytes decodes to (0 when len < header). */
static inline size_t nl__adpcm_block_samples(size_t len)
{
    return len < NL_ADPCM_HDR_LEN ? 0 : (len - NL_ADPCM_HDR_LEN) * 2;
}

/* Reads a block header. NL_EINVAL when len < 4 or the index is > 88. */
int nl__adpcm_read_header(const uint8_t *block, size_t len, nl__adpcm_state *st);

/* Decodes one 4-bit code, updating st; returns the new sample. */
int16_t nl__adpcm_decode_nibble(nl__adpcm_state *st, unsigned code);

/* Decodes a whole block into out (cap samples). If end is not NULL it gets
 * the state after the last sample (equal to the next block's header in a
 * well-formed stream). Returns the sample count, NL_EINVAL, or NL_ETOOBIG
 * when cap is too small. */
int nl__adpcm_decode_block(const uint8_t *block, size_t len, int16_t *out, size_t cap,
                           nl__adpcm_state *end);

/* Encodes n samples (n even) into one block: the header gets the state
 * before the first sample, then n/2 bytes of codes; st is advanced so the
 * next block continues seamlessly. Returns the block length (4 + n/2),
 * NL_EINVAL for odd n, NL_ETOOBIG when cap is too small. */
int nl__adpcm_encode_block(nl__adpcm_state *st, const int16_t *pcm, size_t n, uint8_t *out,
                           size_t cap);

#endif
