/* Reolink DVI-4 ADPCM codec. See adpcm.h for the block format. The tables
 * are the standard IMA ADPCM ones (IMA Digital Audio recommendation, 1992). */
#include "media/adpcm.h"

#include "neolink/error.h"

static const int16_t step_table[89] = {
    7,     8,     9,     10,    11,    12,    13,    14,    16,    17,    19,    21,    23,
    25,    28,    31,    34,    37,    41,    45,    50,    55,    60,    66,    73,    80,
    88,    97,    107,   118,   130,   143,   157,   173,   190,   209,   230,   253,   279,
    307,   337,   371,   408,   449,   494,   544,   598,   658,   724,   796,   876,   963,
    1060,  1166,  1282,  1411,  1552,  1707,  1878,  2066,  2272,  2499,  2749,  3024,  3327,
    3660,  4026,  4428,  4871,  5358,  5894,  6484,  7132,  7845,  8630,  9493,  10442, 11487,
    12635, 13899, 15289, 16818, 18500, 20350, 22385, 24623, 27086, 29794, 32767,
};

static const int8_t index_table[8] = {-1, -1, -1, -1, 2, 4, 6, 8};

int nl__adpcm_read_header(const uint8_t *block, size_t len, nl__adpcm_state *st)
{
    if (len < NL_ADPCM_HDR_LEN || block[2] > 88)
        return NL_EINVAL;
    st->predictor = (int16_t)(uint16_t)(block[0] | block[1] << 8);
    st->index = block[2];
    return 0;
}

int16_t nl__adpcm_decode_nibble(nl__adpcm_state *st, unsigned code)
{
    /* Shift-and-add difference (not the multiply form): the rounding differs
     * between the two and the camera uses this one — block 1 of the sample
     * only ends on block 2's header state this way. */
    int step = step_table[st->index];
    int diff = step >> 3;
    if (code & 4)
        diff += step;
    if (code & 2)
        diff += step >> 1;
    if (code & 1)
        diff += step >> 2;
    int pred = st->predictor + ((code & 8) ? -diff : diff);
    if (pred > 32767)
        pred = 32767;
    else if (pred < -32768)
        pred = -32768;
    int idx = st->index + index_table[code & 7];
    st->index = (uint8_t)(idx < 0 ? 0 : idx > 88 ? 88 : idx);
    st->predictor = (int16_t)pred;
    return (int16_t)pred;
}

int nl__adpcm_decode_block(const uint8_t *block, size_t len, int16_t *out, size_t cap,
                           nl__adpcm_state *end)
{
    nl__adpcm_state st;
    int rc = nl__adpcm_read_header(block, len, &st);
    if (rc < 0)
        return rc;
    size_t n = nl__adpcm_block_samples(len);
    if (n > cap)
        return NL_ETOOBIG;
    if (n > INT32_MAX)
        return NL_EINVAL;
    for (size_t i = NL_ADPCM_HDR_LEN, o = 0; i < len; i++) {
        out[o++] = nl__adpcm_decode_nibble(&st, block[i] >> 4);
        out[o++] = nl__adpcm_decode_nibble(&st, block[i] & 0x0f);
    }
    if (end)
        *end = st;
    return (int)n;
}

/* The usual IMA greedy quantiser (sign, then step, step/2, step/4), then
 * the code goes through the decoder so encoder and decoder never diverge. */
static unsigned encode_sample(nl__adpcm_state *st, int sample)
{
    int step = step_table[st->index];
    int diff = sample - st->predictor;
    unsigned code = 0;
    if (diff < 0) {
        code = 8;
        diff = -diff;
    }
    if (diff >= step) {
        code |= 4;
        diff -= step;
    }
    step >>= 1;
    if (diff >= step) {
        code |= 2;
        diff -= step;
    }
    step >>= 1;
    if (diff >= step)
        code |= 1;
    nl__adpcm_decode_nibble(st, code);
    return code;
}

int nl__adpcm_encode_block(nl__adpcm_state *st, const int16_t *pcm, size_t n, uint8_t *out,
                           size_t cap)
{
    if (n & 1 || st->index > 88)
        return NL_EINVAL;
    size_t len = NL_ADPCM_HDR_LEN + n / 2;
    if (len > cap)
        return NL_ETOOBIG;
    if (len > INT32_MAX)
        return NL_EINVAL;
    uint16_t p = (uint16_t)st->predictor;
    out[0] = (uint8_t)(p & 0xff);
    out[1] = (uint8_t)(p >> 8);
    out[2] = st->index;
    out[3] = 0;
    for (size_t i = 0; i < n; i += 2) {
        unsigned hi = encode_sample(st, pcm[i]);
        unsigned lo = encode_sample(st, pcm[i + 1]);
        out[NL_ADPCM_HDR_LEN + i / 2] = (uint8_t)(hi << 4 | lo);
    }
    return (int)len;
}
