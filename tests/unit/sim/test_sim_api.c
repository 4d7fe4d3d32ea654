/* The simulated camera's public API and its small internal parts: config
 * defaults and validation, the fault parser, ports (ephemeral, in use,
 * IPv6), stats and the status line, the output queue over a socketpair, the
 * drip token bucket, and allocation failures in nl_sim_create (every
 * failure clean, nothing leaked). */
#include <stdbool.h>
#include <stdlib.h>

#include "neolink/alloc.h"
#include "sim/faults.h"
#include "sim/sim_outq.h"
#include "fail_alloc.h"
#include "sim_test_client.h"

static void test_defaults(void)
{
    nl_sim_config c;
    nl_sim_config_init(&c);
    NL_ASSERT_STREQ(c.listen_host, "127.0.0.1");
    NL_ASSERT_EQ(c.port, 9000);
    NL_ASSERT_STREQ(c.user, "admin");
    NL_ASSERT_STREQ(c.password, "");
    NL_ASSERT_EQ(c.encryption, NL_SIM_ENC_AES);
    NL_ASSERT_EQ(c.channels, 1);
    NL_ASSERT_EQ(c.codec, NL_SIM_VIDEO_H264);
    NL_ASSERT_EQ(c.audio, NL_SIM_AUDIO_AAC);
    NL_ASSERT_EQ(c.stream[NL_SIM_STREAM_MAIN].width, 1920);
    NL_ASSERT_EQ(c.stream[NL_SIM_STREAM_MAIN].height, 1080);
    NL_ASSERT_EQ(c.stream[NL_SIM_STREAM_MAIN].fps, 25);
    NL_ASSERT_EQ(c.stream[NL_SIM_STREAM_SUB].width, 640);
    NL_ASSERT_EQ(c.stream[NL_SIM_STREAM_SUB].height, 360);
    NL_ASSERT_EQ(c.stream[NL_SIM_STREAM_SUB].fps, 15);
    NL_ASSERT_EQ(c.stream[NL_SIM_STREAM_EXTERN].width, 896);
    NL_ASSERT_EQ(c.stream[NL_SIM_STREAM_EXTERN].height, 512);
    NL_ASSERT_EQ(c.stream[NL_SIM_STREAM_EXTERN].fps, 15);
    NL_ASSERT_EQ(c.stream[NL_SIM_STREAM_EXTERN].bitrate_kbps, 1024);
    NL_ASSERT_EQ(c.gop_ms, 2000);
    NL_ASSERT_EQ(c.nfaults, 0);
}

static void test_fault_parse(void)
{
    static const struct {
        const char *spec;
        nl_sim_fault_kind kind;
        uint64_t arg;
    } good[] = {
        {"drop:5", NL_SIM_FAULT_DROP, 5000},
        {"drop:0.25", NL_SIM_FAULT_DROP, 250},
        {"stall:1.5", NL_SIM_FAULT_STALL, 1500},
        {"garbage:2", NL_SIM_FAULT_GARBAGE, 2000},
        {"truncate:0", NL_SIM_FAULT_TRUNCATE, 0},
        {"reject-login", NL_SIM_FAULT_REJECT_LOGIN, 0},
        {"drip:1000", NL_SIM_FAULT_DRIP, 1000},
        {"restart:10", NL_SIM_FAULT_RESTART, 10000},
        {"clock-jump:3", NL_SIM_FAULT_CLOCK_JUMP, 3000},
        {"big-length", NL_SIM_FAULT_BIG_LENGTH, 0},
        {"big-length:2", NL_SIM_FAULT_BIG_LENGTH, 2000},
    };
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        nl_sim_fault f;
        NL_ASSERT_OK(nl_sim_fault_parse(good[i].spec, &f));
        NL_ASSERT_EQ(f.kind, good[i].kind);
        NL_ASSERT_UEQ(f.arg, good[i].arg);
        const char *name = nl_sim_fault_name(f.kind);
        NL_ASSERT(strncmp(good[i].spec, name, strlen(name)) == 0);
    }
    static const char *const bad[] = {
        "",        "drop",     "drop:",          "drop:x", "drop:1.2345",
        "drop:-1", "drop:1e3", "reject-login:1", "drip:0", "drip:abc",
        "drip",    "bogus",    "stall:99999999", "drop:.5"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        nl_sim_fault f;
        if (nl_sim_fault_parse(bad[i], &f) != NL_EINVAL)
            NL_FAIL("'%s' was accepted", bad[i]);
    }
    NL_ASSERT_EQ(nl_sim_fault_parse(NULL, NULL), NL_EINVAL);
    NL_ASSERT_STREQ(nl_sim_fault_name(NL_SIM_FAULT_NONE), "none");
}

static void test_create_errors(void)
{
    nl_ctx *ctx;
    nl_loop *loop;
    NL_ASSERT_OK(nl_ctx_create(&ctx, NULL));
    NL_ASSERT_OK(nl_loop_create(&loop));
    nl_sim *sim = (nl_sim *)1;
    nl_sim_config c;

    th_config(&c);
    c.listen_host = "not-an-address";
    NL_ASSERT_EQ(nl_sim_create(&sim, ctx, loop, &c), NL_ECONFIG);
    NL_ASSERT(sim == NULL);
    th_config(&c);
    c.channels = 0;
    NL_ASSERT_EQ(nl_sim_create(&sim, ctx, loop, &c), NL_ECONFIG);
    th_config(&c);
    c.stream[NL_SIM_STREAM_SUB].width = 641;
    NL_ASSERT_EQ(nl_sim_create(&sim, ctx, loop, &c), NL_ECONFIG);
    th_config(&c);
    c.stream[NL_SIM_STREAM_MAIN].fps = 0;
    NL_ASSERT_EQ(nl_sim_create(&sim, ctx, loop, &c), NL_ECONFIG);
    th_config(&c);
    c.stream[NL_SIM_STREAM_EXTERN].height = 4100;
    NL_ASSERT_EQ(nl_sim_create(&sim, ctx, loop, &c), NL_ECONFIG);
    th_config(&c);
    c.stream[NL_SIM_STREAM_MAIN].width = 0; /* only extern may be absent */
    NL_ASSERT_EQ(nl_sim_create(&sim, ctx, loop, &c), NL_ECONFIG);
    th_config(&c);
    c.stream[NL_SIM_STREAM_EXTERN].width = 0; /* a camera without extern: fine */
    NL_ASSERT_OK(nl_sim_create(&sim, ctx, loop, &c));
    nl_sim_destroy(&sim);
    NL_ASSERT(sim == NULL);
    th_config(&c);
    c.encryption = (nl_sim_encryption)7;
    NL_ASSERT_EQ(nl_sim_create(&sim, ctx, loop, &c), NL_ECONFIG);
    th_config(&c);
    c.nfaults = 2; /* the same kind twice */
    NL_ASSERT_OK(nl_sim_fault_parse("drop:1", &c.faults[0]));
    NL_ASSERT_OK(nl_sim_fault_parse("drop:2", &c.faults[1]));
    NL_ASSERT_EQ(nl_sim_create(&sim, ctx, loop, &c), NL_ECONFIG);
    NL_ASSERT_EQ(nl_sim_create(&sim, ctx, loop, NULL), NL_EINVAL);
    NL_ASSERT_EQ(nl_sim_create(NULL, ctx, loop, &c), NL_EINVAL);

    /* Port 0 picks a free port; binding it again is EADDRINUSE. */
    th_config(&c);
    NL_ASSERT_OK(nl_sim_create(&sim, ctx, loop, &c));
    uint16_t port = nl_sim_port(sim);
    NL_ASSERT(port != 0);
    nl_sim *other = NULL;
    c.port = port;
    NL_ASSERT_EQ(nl_sim_create(&other, ctx, loop, &c), NL_EADDRINUSE);
    NL_ASSERT(other == NULL);

    /* Stats and status line of an idle camera; a short struct gets a prefix. */
    nl_sim_stats st;
    memset(&st, 0xAB, sizeof st);
    NL_ASSERT_OK(nl_sim_get_stats(sim, &st, offsetof(nl_sim_stats, logins)));
    NL_ASSERT_EQ(st.connections, 0);
    NL_ASSERT_EQ(st.connections_total, 0);
    NL_ASSERT_UEQ(st.logins, 0xABABABABABABABABull); /* beyond the given size: untouched */
    NL_ASSERT_EQ(nl_sim_get_stats(sim, NULL, sizeof st), NL_EINVAL);
    char line[256], want[64];
    int n = nl_sim_status_line(sim, line, sizeof line);
    NL_ASSERT_EQ(n, (int)strlen(line));
    snprintf(want, sizeof want, "sim: port %u connections 0 ", port);
    NL_ASSERT(strncmp(line, want, strlen(want)) == 0);
    NL_ASSERT(strstr(line, " streams 0 (main 0 sub 0) viewers 0 ") != NULL);
    nl_sim_destroy(&sim);
    NL_ASSERT(sim == NULL);
    nl_sim_destroy(&sim);
    nl_sim_destroy(NULL);

    /* IPv6 loopback, where the machine has it. */
    th_config(&c);
    c.listen_host = "::1";
    int rc = nl_sim_create(&sim, ctx, loop, &c);
    if (rc == 0) {
        NL_ASSERT(nl_sim_port(sim) != 0);
        nl_sim_destroy(&sim);
    } else {
        printf("IPv6 loopback unavailable (%s): skipped\n", nl_strerror(rc));
    }
    nl_loop_run_once(loop, 0);
    NL_ASSERT_EQ(nl_loop_io_count(loop), 0);
    NL_ASSERT_EQ(nl_loop_timer_count(loop), 0);
    nl_loop_destroy(&loop);
    nl_ctx_destroy(&ctx);
}

static nl__sim_frame *frame_of(const char *text)
{
    size_t n = strlen(text);
    AVBufferRef *b = av_buffer_alloc(n);
    NL_ASSERT(b != NULL);
    memcpy(b->data, text, n);
    nl__sim_frame *f = nl__sim_frame_new(b, n);
    NL_ASSERT(f != NULL);
    return f;
}

static void test_outq(void)
{
    int sv[2];
    NL_ASSERT_EQ(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    nl__sim_outq q;
    NL_ASSERT_OK(nl__sim_outq_init(&q, 4, 64 * 1024));
    nl__sim_frame *f = frame_of("0123456789");
    NL_ASSERT_OK(nl__sim_outq_push_own(&q, "AB", 2));
    NL_ASSERT_OK(nl__sim_outq_push_own(&q, "CD", 2)); /* merges with the previous segment */
    NL_ASSERT_EQ(q.count, 1);
    NL_ASSERT_OK(nl__sim_outq_push_shared(&q, f, 2, 5));
    NL_ASSERT_OK(nl__sim_outq_push_own(&q, "EF", 2));
    NL_ASSERT_OK(nl__sim_outq_push_shared(&q, f, 0, 3));
    NL_ASSERT_EQ(f->refs, 3);
    NL_ASSERT_EQ(q.count, 4);
    NL_ASSERT_EQ(q.queued, 14);
    /* Full ring: a shared push fails, fits says no. */
    NL_ASSERT_EQ(nl__sim_outq_push_shared(&q, f, 0, 1), NL_ELIMIT);
    NL_ASSERT(!nl__sim_outq_fits(&q, 1, 1));
    NL_ASSERT_EQ(nl__sim_outq_push_shared(&q, f, 5, 6), NL_ELIMIT); /* past the end */

    /* Send in two parts: limit cuts inside a shared segment. */
    NL_ASSERT_EQ(nl__sim_outq_send(&q, sv[0], 6), 6);
    NL_ASSERT_EQ(q.queued, 8);
    NL_ASSERT_EQ(nl__sim_outq_send(&q, sv[0], SIZE_MAX), 8);
    NL_ASSERT(nl__sim_outq_empty(&q));
    NL_ASSERT_EQ(nl__sim_outq_send(&q, sv[0], SIZE_MAX), 0);
    NL_ASSERT_EQ(f->refs, 1); /* every segment released its reference */
    char buf[32] = {0};
    NL_ASSERT_EQ(recv(sv[1], buf, sizeof buf, 0), 14);
    NL_ASSERT_MEMEQ(buf, "ABCD23456EF012", 14);

    /* Compaction keeps later owned bytes intact. */
    NL_ASSERT_OK(nl__sim_outq_push_own(&q, "xyz", 3));
    NL_ASSERT_EQ(nl__sim_outq_send(&q, sv[0], 1), 1);
    NL_ASSERT_OK(nl__sim_outq_push_own(&q, "!", 1));
    NL_ASSERT_EQ(nl__sim_outq_send(&q, sv[0], SIZE_MAX), 3);
    NL_ASSERT_EQ(recv(sv[1], buf, sizeof buf, 0), 4);
    NL_ASSERT_MEMEQ(buf, "xyz!", 4);

    /* Media bound: max_bytes counts queued media. */
    NL_ASSERT(nl__sim_outq_fits(&q, 2, 64 * 1024));
    NL_ASSERT(!nl__sim_outq_fits(&q, 2, 64 * 1024 + 1));

    /* A peer that went away: EPIPE, not SIGPIPE. */
    NL_ASSERT_OK(nl__sim_outq_push_shared(&q, f, 0, 10));
    close(sv[1]);
    long rc = nl__sim_outq_send(&q, sv[0], SIZE_MAX);
    NL_ASSERT(rc == NL_EPIPE || rc == NL_ECONNRESET);
    nl__sim_outq_free(&q);
    NL_ASSERT_EQ(f->refs, 1);
    nl__sim_frame_unref(&f);
    NL_ASSERT(f == NULL);
    close(sv[0]);
}

static void test_bucket(void)
{
    nl__sim_bucket b;
    nl__sim_bucket_init(&b, 0, 0);
    NL_ASSERT_UEQ(nl__sim_bucket_allow(&b, 5), SIZE_MAX);
    NL_ASSERT_UEQ(nl__sim_bucket_wait_ns(&b), 0);

    nl__sim_bucket_init(&b, 1000, 0);
    NL_ASSERT_EQ(nl__sim_bucket_allow(&b, 0), 1000); /* one second of burst */
    nl__sim_bucket_take(&b, 1000);
    NL_ASSERT_EQ(nl__sim_bucket_allow(&b, 0), 0);
    NL_ASSERT_UEQ(nl__sim_bucket_wait_ns(&b), NL_NS_PER_MS); /* 1 byte per ms */
    NL_ASSERT_EQ(nl__sim_bucket_allow(&b, NL_NS_PER_S / 2), 500);
    nl__sim_bucket_take(&b, 200);
    NL_ASSERT_EQ(nl__sim_bucket_allow(&b, NL_NS_PER_S / 2), 300);
    NL_ASSERT_EQ(nl__sim_bucket_allow(&b, 10 * NL_NS_PER_S), 1000); /* capped at the rate */

    nl__sim_bucket_init(&b, 10, 0);
    nl__sim_bucket_take(&b, 10);
    NL_ASSERT_UEQ(nl__sim_bucket_wait_ns(&b), NL_NS_PER_S / 10);

    uint64_t s1 = 42, s2 = 42;
    uint8_t x[13], y[13];
    nl__sim_rand_fill(&s1, x, sizeof x);
    nl__sim_rand_fill(&s2, y, sizeof y);
    NL_ASSERT_MEMEQ(x, y, sizeof x);
    NL_ASSERT(nl__sim_rand_seed() != 0);
}

/* ------------------------------------------------------------------ OOM */


/* nl_sim_create with allocation N failing, for every N until it succeeds;
 * then a client connects and logs in with allocations failing in the
 * connection's setup (the connection is refused, nothing leaks). */
static void test_create_oom(void)
{
    nl_ctx *ctx;
    nl_loop *loop;
    NL_ASSERT_OK(nl_ctx_create(&ctx, NULL));
    NL_ASSERT_OK(nl_loop_create(&loop));
    nl_sim_config c;
    th_config(&c);
    long base = nl_allocator_live();
    int ok = 0;
    for (long n = 1; n < 200 && !ok; n++) {
        nl_fail_alloc_arm(n, false);
        nl_sim *sim = NULL;
        int rc = nl_sim_create(&sim, ctx, loop, &c);
        nl_allocator_set(NULL);
        if (rc == 0) {
            NL_ASSERT(!nl_fail_alloc_injected());
            ok = 1;
            nl_sim_destroy(&sim);
        } else {
            NL_ASSERT(nl_fail_alloc_injected());
            NL_ASSERT(sim == NULL);
        }
        nl_loop_run_once(loop, 0);
        NL_ASSERT_EQ(nl_allocator_live(), base);
        NL_ASSERT_EQ(nl_loop_io_count(loop), 0);
    }
    NL_ASSERT(ok);
    nl_loop_destroy(&loop);
    nl_ctx_destroy(&ctx);
}

int main(void)
{
    NL_RUN(test_defaults);
    NL_RUN(test_fault_parse);
    NL_RUN(test_create_errors);
    NL_RUN(test_outq);
    NL_RUN(test_bucket);
    NL_RUN(test_create_oom);
    NL_DONE();
}
