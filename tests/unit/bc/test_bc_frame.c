/* BC header codec and incremental framer, checked against the captured
 * samples (sheet §1.5 and §8.1). */
#include "bc/frame.h"
#include "core/alloc.h"
#include "neolink/error.h"
#include "test.h"

static int vectors;

typedef struct sample {
    const char *file;
    uint32_t msg_id, body_len, corr;
    uint16_t response, cls;
    uint8_t hdr_len;
    uint32_t payload_offset;
} sample;

/* Values from the sheet's sample table and worked header examples. */
static const sample samples[] = {
    {"model_sample_legacy_login.bin", 1, 1836, 0x01000000, 0xdc01, 0x6514, 20, 0},
    {"model_sample_modern_login.bin", 1, 145, 0x01000000, 0xdd01, 0x6614, 20, 0},
    {"battery_enc.bin", 1, 175, 0x00010000, 0xdd03, 0x6614, 20, 0},
    {"modern_login_failed.bin", 1, 0, 0, 400, 0x0000, 24, 0},
    {"modern_login_success.bin", 1, 2949, 0, 200, 0x0000, 24, 0},
    {"modern_video_start1.bin", 3, 138, 0x09000000, 200, 0x0000, 24, 106},
    {"modern_video_start2.bin", 3, 30344, 0x09000000, 200, 0x0000, 24, 0},
    {"xml_mainstream_b800.bin", 3, 170, 0x8a, 0, 0x6414, 24, 0},
    {"xml_substream_b800.bin", 3, 171, 0x8f, 0, 0x6414, 24, 0},
    {"xml_externstream_b800.bin", 3, 175, 0x8c, 0, 0x6414, 24, 0},
};
#define NSAMPLES (sizeof samples / sizeof samples[0])

static unsigned char *load(const char *name, size_t *len)
{
    char path[512];
    snprintf(path, sizeof path, "%s/bc/%s", NL_TEST_DATA, name);
    return nl_test_read_file(path, len);
}

static void check_header(const sample *s, const nl_bc_header *h)
{
    NL_ASSERT_UEQ(h->magic, NL_BC_MAGIC);
    NL_ASSERT_UEQ(h->msg_id, s->msg_id);
    NL_ASSERT_UEQ(h->body_len, s->body_len);
    NL_ASSERT_UEQ(h->corr, s->corr);
    NL_ASSERT_UEQ(h->response_code, s->response);
    NL_ASSERT_UEQ(h->msg_class, s->cls);
    NL_ASSERT_UEQ(h->hdr_len, s->hdr_len);
    NL_ASSERT_UEQ(h->payload_offset, s->payload_offset);
    NL_ASSERT_UEQ(h->flags, 0);
    vectors++;
}

static void test_headers(void)
{
    for (size_t i = 0; i < NSAMPLES; i++) {
        size_t len;
        unsigned char *d = load(samples[i].file, &len);
        nl_bc_header h;
        NL_ASSERT_EQ(nl_bc_header_parse(d, len, &h), samples[i].hdr_len);
        check_header(&samples[i], &h);
        NL_ASSERT_UEQ(len, h.hdr_len + h.body_len);
        /* Serialising the parsed header gives the same bytes back. */
        uint8_t out[24];
        NL_ASSERT_UEQ(nl_bc_header_write(&h, out), h.hdr_len);
        NL_ASSERT_MEMEQ(out, d, h.hdr_len);
        /* Any prefix shorter than the header asks for more bytes. */
        for (size_t k = 0; k < h.hdr_len; k++)
            NL_ASSERT_EQ(nl_bc_header_parse(d, k, &h), NL_EAGAIN);
        free(d);
    }
}

static void test_views(void)
{
    size_t len;
    unsigned char *d = load("battery_enc.bin", &len);
    nl_bc_header h;
    NL_ASSERT_EQ(nl_bc_header_parse(d, len, &h), 20);
    NL_ASSERT_EQ(nl_bc_hdr_channel(&h), 0);
    NL_ASSERT_EQ(nl_bc_hdr_stream(&h), 0);
    NL_ASSERT_EQ(nl_bc_hdr_num(&h), 1);
    NL_ASSERT_EQ(nl_bc_hdr_enc_level(&h), 0x03);
    NL_ASSERT_EQ(nl_bc_hdr_direction(&h), NL_BC_DIR_FROM_CAMERA);
    free(d);
    d = load("model_sample_legacy_login.bin", &len);
    NL_ASSERT_EQ(nl_bc_header_parse(d, len, &h), 20);
    NL_ASSERT_EQ(nl_bc_hdr_enc_level(&h), 0x01);
    NL_ASSERT_EQ(nl_bc_hdr_direction(&h), NL_BC_DIR_TO_CAMERA);
    free(d);
    NL_ASSERT_UEQ(nl_bc_corr_make(0x8a, 1, 0x0900), 0x0900018a);

    /* The official client's header-only upgrade request (sheet §3.1). */
    static const uint8_t upgrade[20] = {0xf0, 0xde, 0xbc, 0x0a, 1, 0, 0,    0,    0,    0,
                                        0,    0,    0,    0,    0, 0, 0x12, 0xdc, 0x14, 0x65};
    nl_bc_header_init(&h, 1, NL_BC_CLASS_LEGACY, 0, 0);
    nl_bc_hdr_set_level(&h, NL_BC_ENC_FULLAES, NL_BC_DIR_TO_CAMERA);
    uint8_t out[24];
    NL_ASSERT_EQ(nl_bc_header_write(&h, out), 20);
    NL_ASSERT_MEMEQ(out, upgrade, 20);
    vectors++;
}

static void test_header_variants(void)
{
    uint8_t b[24];
    nl_bc_header h;
    /* Reversed magic is accepted and flagged. */
    nl_bc_header_init(&h, 109, NL_BC_CLASS_MODERN_REPLY, 5, 200);
    h.magic = NL_BC_MAGIC_REVERSE;
    nl_bc_header_write(&h, b);
    NL_ASSERT(b[0] == 0xa0 && b[1] == 0xcb && b[2] == 0xed && b[3] == 0x0f);
    NL_ASSERT_EQ(nl_bc_header_parse(b, 24, &h), 24);
    NL_ASSERT_EQ(h.flags, NL_BC_HDR_REVERSED);
    NL_ASSERT_UEQ(h.magic, NL_BC_MAGIC_REVERSE);
    NL_ASSERT_EQ(h.msg_id, 109);
    /* The sheet's prose spelling a0 cd ed 0f is accepted too. */
    b[1] = 0xcd;
    NL_ASSERT_EQ(nl_bc_header_parse(b, 24, &h), 24);
    NL_ASSERT_EQ(h.flags, NL_BC_HDR_REVERSED);
    NL_ASSERT_UEQ(h.magic, NL_BC_MAGIC_REVERSE_ALT);
    /* Unknown class: 20 bytes, flagged. */
    nl_bc_header_init(&h, 7, 0x1234, 0, 0);
    nl_bc_header_write(&h, b);
    NL_ASSERT_EQ(nl_bc_header_parse(b, 20, &h), 20);
    NL_ASSERT_EQ(h.flags, NL_BC_HDR_UNKNOWN_CLASS);
    /* 0x6482 and 0xFFFF are 24 bytes; 0xFFFF's word is not an offset. */
    NL_ASSERT_EQ(nl_bc_class_header_len(0x6482, NULL), 24);
    nl_bc_header_init(&h, 124, NL_BC_CLASS_FFFF, 0, 200);
    h.trailer = 0xdeadbeef;
    nl_bc_header_write(&h, b);
    NL_ASSERT_EQ(nl_bc_header_parse(b, 24, &h), 24);
    NL_ASSERT_UEQ(h.payload_offset, 0);
    NL_ASSERT_UEQ(h.trailer, 0xdeadbeef);
    /* Bad magic, even partial. */
    b[0] = 0x00;
    NL_ASSERT_EQ(nl_bc_header_parse(b, 24, &h), NL_EPROTO);
    NL_ASSERT_EQ(nl_bc_header_parse(b, 1, &h), NL_EPROTO);
    /* payload_offset beyond body_len. */
    nl_bc_header_init(&h, 3, NL_BC_CLASS_MODERN, 0, 0);
    h.body_len = 10;
    h.payload_offset = 11;
    nl_bc_header_write(&h, b);
    NL_ASSERT_EQ(nl_bc_header_parse(b, 24, &h), NL_EPROTO);
}

/* All samples back to back: one stream as a camera connection would carry. */
static unsigned char *stream_of_samples(size_t *len)
{
    size_t total = 0;
    unsigned char *all = NULL;
    for (size_t i = 0; i < NSAMPLES; i++) {
        size_t n;
        unsigned char *d = load(samples[i].file, &n);
        all = realloc(all, total + n);
        NL_ASSERT(all != NULL);
        memcpy(all + total, d, n);
        total += n;
        free(d);
    }
    *len = total;
    return all;
}

static int splits;

/* Feeds data in chunks (first, then rest each) and checks every message. The
 * framer is reused across runs: a drained framer is as good as a new one. */
static void run_framer(nl_bc_framer *fp, const unsigned char *data, size_t len, size_t first,
                       size_t rest)
{
    nl_bc_framer f = *fp;
    f.messages = 0;
    f.bytes_in = 0;
    size_t pos = 0, got = 0, chunk = first;
    nl_bc_msg m;
    while (pos < len) {
        size_t n = len - pos < chunk ? len - pos : chunk;
        long k = nl_bc_framer_feed(&f, data + pos, n);
        NL_ASSERT(k >= 0);
        pos += (size_t)k;
        chunk = rest;
        int rc;
        while ((rc = nl_bc_framer_next(&f, &m)) == 1) {
            const sample *s = &samples[got];
            check_header(s, &m.hdr);
            vectors--; /* counted once in test_headers, not per chunking */
            NL_ASSERT_UEQ(m.ext_len, s->payload_offset);
            NL_ASSERT_UEQ(m.payload_len, s->body_len - s->payload_offset);
            NL_ASSERT_UEQ(m.payload - (m.ext ? m.ext : m.payload), m.ext_len);
            got++;
        }
        NL_ASSERT_EQ(rc, 0);
    }
    NL_ASSERT_UEQ(got, NSAMPLES);
    NL_ASSERT_UEQ(nl_bc_framer_pending(&f), 0);
    NL_ASSERT_UEQ(f.messages, NSAMPLES);
    NL_ASSERT_UEQ(f.bytes_in, len);
    *fp = f;
    splits++;
}

static void test_framer_splits(void)
{
    size_t len;
    unsigned char *all = stream_of_samples(&len);
    nl_bc_framer f;
    nl_bc_framer_init(&f, 0);
    /* Whole stream at once, one byte at a time, and a split at every offset. */
    run_framer(&f, all, len, len, len);
    run_framer(&f, all, len, 1, 1);
    int quick = getenv("NL_UNDER_VALGRIND") != NULL;
    for (size_t cut = 1; cut < len; cut += quick && cut > 400 ? 97 : 1)
        run_framer(&f, all, len, cut, len);
    /* Odd chunk sizes straddling headers. */
    for (size_t c = 2; c < 64; c++)
        run_framer(&f, all, len, c, c);
    nl_bc_framer_free(&f);
    free(all);
}

/* The zero-copy path: space/commit like a read(2) loop with small reads. */
static void test_framer_space(void)
{
    size_t len;
    unsigned char *all = stream_of_samples(&len);
    nl_bc_framer f;
    nl_bc_framer_init(&f, 0);
    size_t pos = 0, got = 0;
    nl_bc_msg m;
    while (pos < len) {
        size_t room;
        uint8_t *p = nl_bc_framer_space(&f, 777, &room);
        NL_ASSERT(p != NULL && room == 777);
        size_t n = len - pos < room ? len - pos : room;
        memcpy(p, all + pos, n);
        nl_bc_framer_commit(&f, n);
        pos += n;
        while (nl_bc_framer_next(&f, &m) == 1) {
            check_header(&samples[got++], &m.hdr);
            vectors--;
        }
    }
    NL_ASSERT_UEQ(got, NSAMPLES);
    nl_bc_framer_free(&f);
    free(all);
}

static void test_framer_limits(void)
{
    /* body_len above the cap is NL_ETOOBIG as soon as the header is in, and
     * the error sticks. */
    nl_bc_framer f;
    nl_bc_framer_init(&f, 1000);
    uint8_t b[24];
    nl_bc_header h;
    nl_bc_header_init(&h, 3, NL_BC_CLASS_MODERN_REPLY, 0, 200);
    h.body_len = 1001;
    nl_bc_header_write(&h, b);
    NL_ASSERT_EQ(nl_bc_framer_feed(&f, b, 24), 24);
    nl_bc_msg m;
    NL_ASSERT_EQ(nl_bc_framer_next(&f, &m), NL_ETOOBIG);
    NL_ASSERT_EQ(nl_bc_framer_next(&f, &m), NL_ETOOBIG);
    NL_ASSERT_EQ(nl_bc_framer_feed(&f, b, 24), NL_ETOOBIG);
    NL_ASSERT_EQ(nl_bc_framer_resync(&f), NL_ETOOBIG);
    nl_bc_framer_free(&f);

    /* Default cap: 4 MiB accepted, 4 MiB + 1 refused. */
    nl_bc_framer_init(&f, 0);
    h.body_len = NL_BC_MAX_BODY_DEFAULT;
    nl_bc_header_write(&h, b);
    NL_ASSERT_EQ(nl_bc_framer_feed(&f, b, 24), 24);
    NL_ASSERT_EQ(nl_bc_framer_next(&f, &m), 0);
    nl_bc_framer_free(&f);
    nl_bc_framer_init(&f, 0);
    h.body_len = NL_BC_MAX_BODY_DEFAULT + 1;
    nl_bc_header_write(&h, b);
    NL_ASSERT_EQ(nl_bc_framer_feed(&f, b, 24), 24);
    NL_ASSERT_EQ(nl_bc_framer_next(&f, &m), NL_ETOOBIG);
    nl_bc_framer_free(&f);

    /* A buffer never holds more than one maximal message: feed reports how
     * much it took, and draining makes room again. */
    nl_bc_framer_init(&f, 100);
    uint8_t msg[124];
    memset(msg, 0x55, sizeof msg);
    h.body_len = 100;
    nl_bc_header_write(&h, msg);
    uint8_t two[248];
    memcpy(two, msg, 124);
    memcpy(two + 124, msg, 124);
    long k = nl_bc_framer_feed(&f, two, sizeof two);
    NL_ASSERT_EQ(k, 124);
    NL_ASSERT_EQ(nl_bc_framer_feed(&f, two + k, sizeof two - (size_t)k), 0);
    NL_ASSERT_EQ(nl_bc_framer_next(&f, &m), 1);
    NL_ASSERT_EQ(m.payload_len, 100);
    NL_ASSERT_EQ(nl_bc_framer_feed(&f, two + k, sizeof two - (size_t)k), 124);
    NL_ASSERT_EQ(nl_bc_framer_next(&f, &m), 1);
    NL_ASSERT_EQ(nl_bc_framer_next(&f, &m), 0);
    nl_bc_framer_free(&f);
}

static void test_framer_resync(void)
{
    size_t len;
    unsigned char *d = load("modern_login_failed.bin", &len);
    unsigned char *v = NULL;
    size_t vlen;
    v = load("xml_mainstream_b800.bin", &vlen);
    /* garbage, a valid message, garbage with a fake magic of unknown class,
     * then another valid message */
    uint8_t buf[512];
    size_t n = 0;
    memcpy(buf + n, "junk!", 5), n += 5;
    memcpy(buf + n, d, len), n += len;
    static const uint8_t fake[20] = {0xf0, 0xde, 0xbc, 0x0a, 1, 0, 0, 0, 0,    0,
                                     0,    0,    0,    0,    0, 0, 0, 0, 0x99, 0x99};
    memcpy(buf + n, fake, 20), n += 20;
    memcpy(buf + n, v, vlen), n += vlen;

    nl_bc_framer f;
    nl_bc_framer_init(&f, 0);
    NL_ASSERT_EQ(nl_bc_framer_feed(&f, buf, n), (long)n);
    nl_bc_msg m;
    NL_ASSERT_EQ(nl_bc_framer_next(&f, &m), NL_EPROTO);
    NL_ASSERT_EQ(nl_bc_framer_next(&f, &m), NL_EPROTO); /* sticky */
    NL_ASSERT_EQ(nl_bc_framer_resync(&f), 5);
    NL_ASSERT_EQ(nl_bc_framer_next(&f, &m), 1);
    NL_ASSERT_EQ(m.hdr.response_code, 400);
    /* The fake header is framed as a 20-byte unknown-class message with no
     * body; the caller sees the flag. */
    NL_ASSERT_EQ(nl_bc_framer_next(&f, &m), 1);
    NL_ASSERT_EQ(m.hdr.flags, NL_BC_HDR_UNKNOWN_CLASS);
    NL_ASSERT_EQ(nl_bc_framer_next(&f, &m), 1);
    NL_ASSERT_EQ(m.hdr.msg_id, 3);
    NL_ASSERT_EQ(m.payload_len, 170);
    NL_ASSERT_EQ(nl_bc_framer_next(&f, &m), 0);

    /* Garbage only: everything is dropped except a trailing partial magic. */
    static const uint8_t tail[] = {'x', 'y', 'z', 0xf0, 0xde};
    NL_ASSERT_EQ(nl_bc_framer_feed(&f, tail, sizeof tail), (long)sizeof tail);
    NL_ASSERT_EQ(nl_bc_framer_next(&f, &m), NL_EPROTO);
    NL_ASSERT_EQ(nl_bc_framer_resync(&f), 3);
    NL_ASSERT_EQ(nl_bc_framer_pending(&f), 2);
    NL_ASSERT_EQ(nl_bc_framer_next(&f, &m), 0);
    nl_bc_framer_free(&f);
    free(d);
    free(v);
}

int main(void)
{
    long live = nl_allocator_live();
    NL_RUN(test_headers);
    NL_RUN(test_views);
    NL_RUN(test_header_variants);
    NL_RUN(test_framer_splits);
    NL_RUN(test_framer_space);
    NL_RUN(test_framer_limits);
    NL_RUN(test_framer_resync);
    NL_ASSERT_EQ(nl_allocator_live(), live);
    printf("%d header vectors checked, %d chunkings of the %zu-message sample stream\n", vectors,
           splits, NSAMPLES);
    NL_DONE();
}
