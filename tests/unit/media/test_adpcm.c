/* Reolink DVI-4 ADPCM: the decoder against the camera sample (block 1 must
 * end exactly in block 2's header state), the encoder round trip, and the
 * public decode entry point. */
#include <math.h>

#include "media/adpcm.h"
#include "media_test_util.h"

static uint8_t *load_sample(size_t *len)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/bcmedia/adpcm_0.raw", NL_TEST_DATA);
    return nl_test_read_file(path, len);
}

static void test_sample_state_chain(void)
{
    size_t len;
    uint8_t *raw = load_sample(&len);
    NL_ASSERT_EQ(len, 512);
    /* Two 256-byte packets: 12-byte header (magic, sizes, 00 01, half
     * block), then the 244-byte DVI block. */
    const uint8_t *b1 = raw + 12, *b2 = raw + 256 + 12;
    nl__adpcm_state s1, s2, end;
    NL_ASSERT_OK(nl__adpcm_read_header(b1, 244, &s1));
    NL_ASSERT_OK(nl__adpcm_read_header(b2, 244, &s2));
    NL_ASSERT_EQ(s1.predictor, 34);
    NL_ASSERT_EQ(s1.index, 16);
    NL_ASSERT_EQ(s2.predictor, -96);
    NL_ASSERT_EQ(s2.index, 19);

    int16_t pcm[480];
    NL_ASSERT_EQ(nl__adpcm_decode_block(b1, 244, pcm, 480, &end), 480);
    NL_ASSERT_EQ(end.predictor, -96);
    NL_ASSERT_EQ(end.index, 19);
    NL_ASSERT_EQ(pcm[479], -96);

    /* Low-nibble-first (IMA/WAV order) does not chain: it ends at 3. */
    nl__adpcm_state lo = s1;
    int16_t last = 0;
    for (size_t i = 4; i < 244; i++) {
        nl__adpcm_decode_nibble(&lo, b1[i] & 0x0f);
        last = nl__adpcm_decode_nibble(&lo, b1[i] >> 4);
    }
    NL_ASSERT_EQ(last, 3);

    /* The public entry point gives the same samples. */
    int16_t pub[480];
    NL_ASSERT_EQ(nl_media_adpcm_decode(b1, 244, pub, 480), 480);
    NL_ASSERT_MEMEQ(pub, pcm, sizeof pcm);
    NL_ASSERT_EQ(nl_media_adpcm_decode(b1, 244, pub, 479), NL_ETOOBIG);
    NL_ASSERT_EQ(nl_media_adpcm_decode(b1, 3, pub, 480), NL_EINVAL);
    uint8_t bad[8] = {0, 0, 89, 0, 0x12, 0x34, 0x56, 0x78};
    NL_ASSERT_EQ(nl_media_adpcm_decode(bad, sizeof bad, pub, 480), NL_EINVAL);
    free(raw);
}

static double snr_db(const int16_t *ref, const int16_t *got, size_t n)
{
    double sig = 0, err = 0;
    for (size_t i = 0; i < n; i++) {
        double e = (double)ref[i] - got[i];
        sig += (double)ref[i] * ref[i];
        err += e * e;
    }
    return 10.0 * log10(sig / (err > 0 ? err : 1e-9));
}

static void test_encode_roundtrip(void)
{
    /* 2 s of a 440 Hz + 1250 Hz mix at 8 kHz, half scale, in 480-sample
     * blocks exactly as the simulated camera sends them. */
    enum { BLOCKS = 33, N = BLOCKS * NL_ADPCM_BLOCK_SAMPLES };
    static int16_t in[N], out[N];
    for (int i = 0; i < N; i++) {
        double t = i / 8000.0;
        in[i] = (int16_t)(11000 * sin(2 * M_PI * 440 * t) + 5000 * sin(2 * M_PI * 1250 * t));
    }
    nl__adpcm_state enc = {0, 0}, dec_end = {0, 0};
    uint8_t block[NL_ADPCM_BLOCK_LEN];
    for (int b = 0; b < BLOCKS; b++) {
        nl__adpcm_state before = enc;
        int n = nl__adpcm_encode_block(&enc, in + b * NL_ADPCM_BLOCK_SAMPLES,
                                       NL_ADPCM_BLOCK_SAMPLES, block, sizeof block);
        NL_ASSERT_EQ(n, NL_ADPCM_BLOCK_LEN);
        /* The header holds the state before the block, and the state the
         * previous block's decode ended in. */
        nl__adpcm_state hdr;
        NL_ASSERT_OK(nl__adpcm_read_header(block, 244, &hdr));
        NL_ASSERT_EQ(hdr.predictor, before.predictor);
        NL_ASSERT_EQ(hdr.index, before.index);
        if (b > 0) {
            NL_ASSERT_EQ(hdr.predictor, dec_end.predictor);
            NL_ASSERT_EQ(hdr.index, dec_end.index);
        }
        NL_ASSERT_EQ(block[3], 0);
        NL_ASSERT_EQ(
            nl__adpcm_decode_block(block, 244, out + b * NL_ADPCM_BLOCK_SAMPLES, 480, &dec_end),
            480);
        NL_ASSERT_EQ(dec_end.predictor, enc.predictor);
        NL_ASSERT_EQ(dec_end.index, enc.index);
    }
    /* Skip the first 20 ms while the step size adapts from index 0. */
    double snr = snr_db(in + 160, out + 160, N - 160);
    printf("adpcm round trip SNR %.1f dB\n", snr);
    NL_ASSERT(snr > 20.0);

    /* Silence stays (near) silent and the step index decays to 0. */
    static int16_t zeros[480], z_out[480];
    nl__adpcm_state st = {0, 40};
    NL_ASSERT_EQ(nl__adpcm_encode_block(&st, zeros, 480, block, sizeof block), 244);
    NL_ASSERT_EQ(nl__adpcm_decode_block(block, 244, z_out, 480, NULL), 480);
    NL_ASSERT_EQ(st.index, 0);
    for (int i = 100; i < 480; i++)
        NL_ASSERT(z_out[i] >= -8 && z_out[i] <= 8);

    /* Full-scale square wave: saturates cleanly, no wrap-around. */
    static int16_t sq[480], sq_out[480];
    for (int i = 0; i < 480; i++)
        sq[i] = (i / 40) % 2 ? 32767 : -32768;
    st = (nl__adpcm_state){0, 0};
    NL_ASSERT_EQ(nl__adpcm_encode_block(&st, sq, 480, block, sizeof block), 244);
    NL_ASSERT_EQ(nl__adpcm_decode_block(block, 244, sq_out, 480, NULL), 480);
    NL_ASSERT(sq_out[79] > 20000);
    NL_ASSERT(sq_out[119] < -20000);

    /* Argument checks. */
    NL_ASSERT_EQ(nl__adpcm_encode_block(&st, sq, 3, block, sizeof block), NL_EINVAL);
    NL_ASSERT_EQ(nl__adpcm_encode_block(&st, sq, 480, block, 243), NL_ETOOBIG);
}

int main(void)
{
    NL_RUN(test_sample_state_chain);
    NL_RUN(test_encode_roundtrip);
    NL_DONE();
}
