/* Teardown of the simulated camera: nl_sim_destroy joins every encoder
 * thread before it returns, so the library's live allocations are back to
 * their baseline at once (a host may unload the library right after), with
 * a stream still running, with one the client just stopped (its thread
 * still winding down), and after many start/stop cycles (threads of
 * stopped streams are reaped as the simulator goes, not kept until the
 * end). */
#include "neolink/alloc.h"
#include "sim_test_client.h"

/* The harness of sim_test_client.h, but with an allocation baseline taken
 * after the context and loop exist and before the simulator does. */
typedef struct lt_harness {
    sim_harness h;
    long base;
} lt_harness;

static void lt_noop(void *arg)
{
    (void)arg;
}

static void lt_noop_timer(nl_timer *t)
{
    (void)t;
}

static void lt_start(lt_harness *t, const nl_sim_config *cfg)
{
    sim_harness *h = &t->h;
    memset(t, 0, sizeof *t);
    if (!getenv("NL_TEST_VERBOSE"))
        av_log_set_level(AV_LOG_ERROR);
    nl_ctx_config cc = {.log_fn = th_log,
                        .log_level = getenv("NL_TEST_VERBOSE") ? NL_LOG_DEBUG : NL_LOG_WARN};
    NL_ASSERT_OK(nl_ctx_create(&h->ctx, &cc));
    NL_ASSERT_OK(nl_loop_create(&h->loop));
    /* The loop keeps what it allocates once and reuses (the timer heap's
     * array, recycled post nodes): warm both up so the baseline holds
     * them and only the simulator's own allocations count. th_pause()
     * posts one callback at a time, so one recycled node is enough. */
    nl_timer warm;
    nl_timer_init(&warm, lt_noop_timer, NULL);
    NL_ASSERT_OK(nl_timer_start_in(h->loop, &warm, NL_NS_PER_S));
    nl_timer_stop(h->loop, &warm);
    NL_ASSERT_OK(nl_loop_post(h->loop, lt_noop, NULL));
    nl_loop_run_once(h->loop, 0);
    t->base = nl_allocator_live();
    NL_ASSERT_OK(nl_sim_create(&h->sim, h->ctx, h->loop, cfg));
    h->port = nl_sim_port(h->sim);
    NL_ASSERT(h->port != 0);
    NL_ASSERT_EQ(pthread_create(&h->thread, NULL, th_loop_main, h), 0);
    h->running = 1;
}

/* Destroys the simulator (loop paused, so on the loop thread's behalf) and
 * checks that nothing it allocated is live any more. With loop_turn, one
 * non-blocking loop iteration runs first: connections still open at
 * destroy are freed by the deferred step they queued (on this thread, in
 * that call; nothing asynchronous). Never a sleep: an encoder thread still
 * finishing after destroy is exactly what must not happen. */
static void lt_destroy_and_check(lt_harness *t, int loop_turn)
{
    th_pause(&t->h);
    nl_sim_destroy(&t->h.sim);
    if (loop_turn)
        nl_loop_run_once(t->h.loop, 0);
    NL_ASSERT_EQ(nl_allocator_live(), t->base);
    nl_loop_run_once(t->h.loop, 0);
    NL_ASSERT_EQ(nl_loop_io_count(t->h.loop), 0);
    NL_ASSERT_EQ(nl_loop_timer_count(t->h.loop), 0);
    nl_loop_destroy(&t->h.loop);
    nl_ctx_destroy(&t->h.ctx);
}

/* Reads until n media messages (msg 3 with a body: the start reply, then
 * BcMedia) arrived or 5 s passed; returns how many did. */
static int lt_media(tclient *c, int n)
{
    int got = 0;
    uint64_t end = th_now_ms() + 5000;
    while (got < n && th_now_ms() < end && tc_recv(c, 1000) == 1)
        if (c->msg.hdr.msg_id == NL_BC_MSG_VIDEO && c->msg.hdr.body_len > 0)
            got++;
    return got;
}

/* Destroy while streams run: the client is closed on our side only (the
 * loop is paused), so destroy itself stops both streams and must wait for
 * their encoder threads. */
static void test_destroy_with_running_streams(void)
{
    nl_sim_config cfg;
    th_config(&cfg);
    cfg.channels = 2;
    lt_harness t;
    lt_start(&t, &cfg);
    tclient c;
    tc_open(&c, t.h.port);
    NL_ASSERT_EQ(tc_login(&c, NL_BC_ENC_AES, 0, "admin", ""), 200);
    tc_start(&c, 0, NL_BC_STREAM_SUB);
    tc_start(&c, 1, NL_BC_STREAM_MAIN);
    NL_ASSERT_EQ(lt_media(&c, 6), 6);
    nl_sim_stats st = th_stats(&t.h);
    NL_ASSERT_EQ(st.streams_active, 2);
    NL_ASSERT_EQ(st.connections, 1);
    th_pause(&t.h);
    tc_close(&c);
    lt_destroy_and_check(&t, 1);
}

/* Destroy right after the last viewer left: the simulator has freed the
 * connection and let go of the encoder, whose thread is still finishing
 * its frame. Repeated, because the window is a few milliseconds. */
static void test_destroy_while_encoder_winds_down(void)
{
    for (int round = 0; round < 5; round++) {
        nl_sim_config cfg;
        th_config(&cfg);
        lt_harness t;
        lt_start(&t, &cfg);
        tclient c;
        tc_open(&c, t.h.port);
        NL_ASSERT_EQ(tc_login(&c, NL_BC_ENC_AES, 0, "admin", ""), 200);
        tc_start(&c, 0, NL_BC_STREAM_SUB);
        NL_ASSERT_EQ(lt_media(&c, 3), 3);
        tc_close(&c);
        /* Poll without sleeping until the connection is gone (its deferred
         * free ran, in the iteration that stopped the stream). */
        nl_sim_stats st;
        uint64_t end = th_now_ms() + 3000;
        do
            st = th_stats(&t.h);
        while ((st.connections || st.streams_active) && th_now_ms() < end);
        NL_ASSERT_EQ(st.connections, 0);
        NL_ASSERT_EQ(st.streams_active, 0);
        NL_ASSERT_UEQ(st.streams_started, 1);
        lt_destroy_and_check(&t, 0);
    }
}

/* Live allocations, read while the loop is paused. */
static long lt_live(lt_harness *t)
{
    th_pause(&t->h);
    long live = nl_allocator_live();
    th_resume(&t->h);
    return live;
}

/* Many short streams, one after the other. Each stopped stream's thread is
 * reaped by a later start or stop, so what the simulator holds does not
 * grow with the number of streams it ever ran. */
static void test_start_stop_cycles(void)
{
    nl_sim_config cfg;
    th_config(&cfg);
    lt_harness t;
    lt_start(&t, &cfg);
    tclient c;
    tc_open(&c, t.h.port);
    NL_ASSERT_EQ(tc_login(&c, NL_BC_ENC_AES, 0, "admin", ""), 200);
    long first = 0;
    enum { CYCLES = 12 };
    for (int i = 0; i < CYCLES; i++) {
        uint32_t corr = tc_start(&c, 0, NL_BC_STREAM_SUB);
        NL_ASSERT_EQ(lt_media(&c, 2), 2);
        tc_stop(&c, corr, 0, NL_BC_STREAM_SUB);
        int rc;
        while ((rc = tc_recv(&c, 3000)) == 1 && c.msg.hdr.msg_id != NL_BC_MSG_VIDEO_STOP)
            ;
        NL_ASSERT_EQ(rc, 1);
        NL_ASSERT_EQ(c.msg.hdr.response_code, 200);
        nl_sim_stats st = th_stats(&t.h);
        NL_ASSERT_EQ(st.streams_active, 0);
        NL_ASSERT_UEQ(st.streams_started, (uint64_t)i + 1);
        if (i == 1) {
            /* The stopped encoder frees its state and ring when its thread
             * ends; give it time, then take the steady-state figure. */
            usleep(th_valgrind() ? 1500000 : 200000);
            first = lt_live(&t);
        } else if (i > 1) {
            uint64_t end = th_now_ms() + 3000;
            long live;
            while ((live = lt_live(&t)) > first && th_now_ms() < end)
                usleep(10000);
            NL_ASSERT_EQ(live, first);
        }
    }
    th_pause(&t.h);
    tc_close(&c);
    lt_destroy_and_check(&t, 1);
}

int main(void)
{
    NL_RUN(test_destroy_with_running_streams);
    NL_RUN(test_destroy_while_encoder_winds_down);
    NL_RUN(test_start_stop_cycles);
    NL_DONE();
}
