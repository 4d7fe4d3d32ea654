/* The fan-out: every playing client gets every frame, whole and in order,
 * whether it went out at once from the shared frame (the direct path) or
 * waited in the client's queue behind a partial write; the mount's dense
 * playing array follows PLAY, PAUSE, TEARDOWN and hang-ups; and streaming
 * allocates nothing per frame once every client is playing. */
#include <stdatomic.h>
#include <stdlib.h>

#include "neolink/alloc.h"
#include "rtsp/server_int.h"
#include "test_server_harness.h"

static char rep[70000];

#define URL(path) "rtsp://127.0.0.1/" path

/* ---------------------------------------------------------------- allocation counter */

static atomic_long allocs; /* malloc + realloc calls through the library's allocator */

static void *count_malloc(void *ud, size_t n)
{
    atomic_fetch_add(&allocs, 1);
    return malloc(n);
}

static void *count_realloc(void *ud, void *p, size_t n)
{
    atomic_fetch_add(&allocs, 1);
    return realloc(p, n);
}

static void count_free(void *ud, void *p)
{
    free(p);
}

/* ---------------------------------------------------------------- a checked client */

/* One client and what it received: '$' frames parsed as they come, RTP
 * sequence numbers checked on its RTP channel. */
typedef struct client {
    int fd;
    uint8_t ch; /* its RTP channel; RTCP is ch + 1 */
    char sess[32];
    uint8_t buf[1 << 17];
    size_t len;
    bool have_seq;
    uint16_t last_seq;
    unsigned pkts, frames, gaps, bad;
    size_t bytes;
} client;

/* Parses what is buffered; a partial '$' frame stays for the next call. */
static void c_parse(client *c)
{
    size_t off = 0;
    while (off + 4 <= c->len) {
        const uint8_t *p = c->buf + off;
        if (p[0] != '$') {
            c->bad++;
            off = c->len;
            break;
        }
        size_t n = (size_t)p[2] << 8 | p[3];
        if (off + 4 + n > c->len)
            break;
        if (p[1] == c->ch && n >= 12) {
            uint16_t seq = (uint16_t)(p[6] << 8 | p[7]);
            if (c->have_seq && seq != (uint16_t)(c->last_seq + 1))
                c->gaps++;
            c->have_seq = true;
            c->last_seq = seq;
            c->pkts++;
            if (p[5] & 0x80)
                c->frames++;
        } else if (p[1] != c->ch + 1) {
            c->bad++;
        }
        c->bytes += 4 + n;
        off += 4 + n;
    }
    memmove(c->buf, c->buf + off, c->len - off);
    c->len -= off;
}

/* Reads at most max bytes (all there is when max is 0) and parses them. */
static void c_read(client *c, size_t max)
{
    size_t got = 0;
    while (c->len < sizeof c->buf && (max == 0 || got < max)) {
        size_t room = sizeof c->buf - c->len;
        if (max && room > max - got)
            room = max - got;
        ssize_t n = recv(c->fd, c->buf + c->len, room, MSG_DONTWAIT);
        if (n <= 0)
            break;
        c->len += (size_t)n;
        got += (size_t)n;
    }
    c_parse(c);
}

/* SETUP on channels ch/ch+1, then PLAY (answered at the next keyframe,
 * pushed meanwhile). The bytes after the PLAY answer go to the checker. */
static void c_start(harness *h, nl_rtsp_mount *m, client *c, uint8_t ch, int rcvbuf)
{
    memset(c, 0, sizeof *c);
    c->ch = ch;
    c->fd = h_connect(h);
    if (rcvbuf)
        setsockopt(c->fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf);
    h_rx *rx = calloc(1, sizeof *rx);
    char req[512];
    snprintf(
        req, sizeof req,
        "SETUP " URL("cam/streamid=0") " RTSP/1.0\r\nCSeq: 1\r\n"
                                       "Transport: RTP/AVP/TCP;unicast;interleaved=%u-%u\r\n\r\n",
        (unsigned)ch, (unsigned)ch + 1);
    NL_ASSERT_EQ(h_req(h, c->fd, rx, req, rep, sizeof rep, NULL), 200);
    h_header(rep, "Session", c->sess, sizeof c->sess);
    c->sess[16] = '\0';
    snprintf(req, sizeof req, "PLAY " URL("cam/") " RTSP/1.0\r\nCSeq: 2\r\nSession: %s\r\n\r\n",
             c->sess);
    NL_ASSERT_EQ(h_req(h, c->fd, rx, req, rep, sizeof rep, m), 200);
    memcpy(c->buf, rx->buf, rx->len);
    c->len = rx->len;
    c_parse(c);
    free(rx);
}

static void push_frame(harness *h, nl_rtsp_mount *m, size_t slice);

/* A request on an already streaming client: the answer is found between
 * '$' frames, which are checked and counted on the way. Frames of `push`
 * are pushed meanwhile when given. */
static int c_request(harness *h, client *c, const char *method, int cseq, nl_rtsp_mount *push)
{
    char req[512];
    snprintf(req, sizeof req, "%s " URL("cam/") " RTSP/1.0\r\nCSeq: %d\r\nSession: %s\r\n\r\n",
             method, cseq, c->sess);
    h_send(c->fd, req, strlen(req));
    for (int i = 0; i < 400; i++) {
        nl_loop_run_once(h->loop, 5);
        if (push)
            push_frame(h, push, 800);
        ssize_t n = recv(c->fd, c->buf + c->len, sizeof c->buf - c->len, MSG_DONTWAIT);
        if (n > 0)
            c->len += (size_t)n;
        /* '$' frames first, then maybe the reply */
        size_t off = 0;
        while (off + 4 <= c->len && c->buf[off] == '$')
            off += 4 + ((size_t)c->buf[off + 2] << 8 | c->buf[off + 3]);
        if (off > c->len)
            continue;
        const char *r = (const char *)c->buf + off;
        const char *e = memmem(r, c->len - off, "\r\n\r\n", 4);
        if (!e)
            continue;
        int status = atoi(r + 9);
        size_t rl = (size_t)(e + 4 - r);
        /* check the frames before it, then drop the reply */
        size_t keep = c->len;
        c->len = off;
        c_parse(c);
        NL_ASSERT_EQ(c->len, 0);
        memmove(c->buf, c->buf + off + rl, keep - off - rl);
        c->len = keep - off - rl;
        c_parse(c);
        return status;
    }
    NL_FAIL("no answer to %s", method);
    return -1;
}

/* Pushes one frame of `slice` bytes (a keyframe every key_every). */
static void push_frame(harness *h, nl_rtsp_mount *m, size_t slice)
{
    bool key = h->frame % h->key_every == 0;
    h_make_au(h, key, key, slice);
    NL_ASSERT_OK(nl_rtsp_mount_push(m, 0, h->pkt));
    h->frame++;
    h->pts += 40000;
}

typedef struct stats_out {
    unsigned n;
    nl_rtsp_client_stats c[16];
} stats_out;

static void collect(void *ud, const nl_rtsp_mount_stats *m, const nl_rtsp_client_stats *c)
{
    stats_out *o = ud;
    if (c && o->n < 16)
        o->c[o->n++] = *c;
}

/* ---------------------------------------------------------------- tests */

/* Six clients that keep up, one on its own channels: all get every frame
 * whole and in order straight from the shared frame (no queue entry ever),
 * and after the warm-up streaming allocates nothing. */
static void test_direct_and_no_alloc(void)
{
    static const nl_allocator counting = {count_malloc, count_realloc, count_free, NULL};
    nl_allocator_set(&counting);
    harness h;
    h_init(&h, NULL);
    nl_rtsp_mount *cam = h_mount(&h, "cam", false, NULL);
    enum { N = 6 };
    static client cl[N];
    for (int i = 0; i < N; i++)
        c_start(&h, cam, &cl[i], i == N - 1 ? 6 : 0, 0);
    nl_rtsp_mount_stats ms;
    nl_rtsp_mount_get_stats(cam, &ms);
    NL_ASSERT_EQ(ms.playing, N);
    /* warm-up: the frame pool settles into its size classes */
    for (int k = 0; k < 20; k++) {
        push_frame(&h, cam, k % 5 ? 1000 : 6000);
        nl_loop_run_once(h.loop, 0);
        for (int i = 0; i < N; i++)
            c_read(&cl[i], 0);
    }
    unsigned before[N];
    for (int i = 0; i < N; i++)
        before[i] = cl[i].frames;
    long a0 = atomic_load(&allocs);
    enum { FRAMES = 200 };
    for (int k = 0; k < FRAMES; k++) {
        push_frame(&h, cam, k % 5 ? 1000 : 6000);
        nl_loop_run_once(h.loop, 0);
        for (int i = 0; i < N; i++)
            c_read(&cl[i], 0);
    }
    long a1 = atomic_load(&allocs);
    NL_ASSERT_EQ(a1 - a0, 0); /* nothing allocated for 200 frames x 6 clients */
    for (int i = 0; i < N; i++) {
        NL_ASSERT_EQ(cl[i].frames - before[i], FRAMES);
        NL_ASSERT_EQ(cl[i].gaps, 0);
        NL_ASSERT_EQ(cl[i].bad, 0);
        NL_ASSERT_EQ(cl[i].len, 0); /* every frame arrived whole */
    }
    /* the client on channels 6-7 got its packets there (checked by c_parse) */
    NL_ASSERT(cl[N - 1].pkts > FRAMES);
    stats_out so = {0};
    nl_rtsp_server_foreach(h.srv, collect, &so);
    NL_ASSERT_EQ(so.n, N);
    for (unsigned i = 0; i < so.n; i++) {
        NL_ASSERT_EQ(so.c[i].queue_peak_frames, 0); /* never queued: the direct path */
        NL_ASSERT_EQ(so.c[i].frames_dropped, 0);
        NL_ASSERT(so.c[i].frames_sent >= 20 + FRAMES);
    }
    for (int i = 0; i < N; i++)
        close(cl[i].fd);
    h_free(&h);
    nl_allocator_set(NULL);
}

/* A client that stops reading next to one that keeps up: once the kernel's
 * buffers are full its frames go out in parts and queue up behind them, and
 * when it reads again every frame still arrives whole and in order; the
 * other one is not held back meanwhile. */
static void test_partial_writes_keep_order(void)
{
    nl_rtsp_server_config cfg;
    nl_rtsp_server_config_init(&cfg);
    /* no overflow or stall however slowly this runs (valgrind) */
    cfg.queue_max_ms = 60000;
    cfg.stall_timeout_ms = 60000;
    harness h;
    h_init(&h, &cfg);
    nl_rtsp_mount *cam = h_mount(&h, "cam", false, NULL);
    static client slow, fast;
    c_start(&h, cam, &slow, 0, 0);
    c_start(&h, cam, &fast, 0, 0);
    /* both have everything pushed so far */
    for (int i = 0; i < 50; i++) {
        nl_loop_run_once(h.loop, 1);
        c_read(&slow, 0);
        c_read(&fast, 0);
    }
    NL_ASSERT(slow.have_seq && fast.have_seq && slow.last_seq == fast.last_seq);
    NL_ASSERT_EQ(slow.len + fast.len, 0);
    unsigned slow0 = slow.frames, fast0 = fast.frames;
    enum { FRAMES = 60 };
    for (int k = 0; k < FRAMES; k++) {
        push_frame(&h, cam, k % 5 ? 20000 : 60000); /* ~1.5 MB: more than the socket buffers */
        nl_loop_run_once(h.loop, 0);
        c_read(&fast, 0);
    }
    nl_rtsp_mount_stats ms;
    nl_rtsp_mount_get_stats(cam, &ms);
    NL_ASSERT(ms.queue_peak_frames >= 2); /* the slow one did queue */
    NL_ASSERT_EQ(ms.overflows, 0);
    NL_ASSERT_EQ(fast.frames - fast0, FRAMES);
    /* drain the slow one */
    for (int i = 0; i < 2000 && slow.frames - slow0 < FRAMES; i++) {
        nl_loop_run_once(h.loop, 1);
        c_read(&slow, 0);
    }
    NL_ASSERT_EQ(slow.frames - slow0, FRAMES);
    NL_ASSERT_EQ(slow.gaps, 0);
    NL_ASSERT_EQ(slow.bad, 0);
    NL_ASSERT_EQ(slow.len, 0);
    NL_ASSERT_EQ(fast.gaps, 0);
    NL_ASSERT_EQ(fast.bad, 0);
    /* once drained, it is back on the direct path: nothing waits */
    stats_out so = {0};
    nl_rtsp_server_foreach(h.srv, collect, &so);
    NL_ASSERT_EQ(so.n, 2);
    for (unsigned i = 0; i < so.n; i++)
        NL_ASSERT_EQ(so.c[i].queue_frames, 0);
    close(slow.fd);
    close(fast.fd);
    h_free(&h);
}

/* The mount's playing array against its sessions: exactly the PLAYING
 * ones, each knowing its slot; the others know they have none. */
static void check_playing(const nl_rtsp_mount *m)
{
    uint32_t playing = 0;
    nl_list_foreach(it, &m->sessions)
    {
        const nl__rtsp_session *s = nl_container_of(it, nl__rtsp_session, mount_node);
        if (s->state == NL__SESS_PLAYING) {
            playing++;
            NL_ASSERT(s->play_idx < m->nplaying);
            NL_ASSERT(m->playing[s->play_idx] == s);
        } else {
            NL_ASSERT_UEQ(s->play_idx, UINT32_MAX);
        }
    }
    NL_ASSERT_UEQ(playing, m->nplaying);
    NL_ASSERT(!m->fanning && !m->playing_holes);
}

/* The playing array follows the sessions: PAUSE, TEARDOWN and a hang-up
 * take a client out (and it gets no more frames), PLAY puts it back. */
static void test_playing_set(void)
{
    harness h;
    h_init(&h, NULL);
    nl_rtsp_mount *cam = h_mount(&h, "cam", false, NULL);
    static client c[4];
    for (int i = 0; i < 4; i++)
        c_start(&h, cam, &c[i], 0, 0);
    nl_rtsp_mount_stats ms;
    nl_rtsp_server_stats ss;
    nl_rtsp_mount_get_stats(cam, &ms);
    NL_ASSERT_EQ(ms.playing, 4);
    check_playing(cam);

    /* from the middle, then the first, then the last slot */
    NL_ASSERT_EQ(c_request(&h, &c[1], "PAUSE", 3, NULL), 200);
    nl_rtsp_mount_get_stats(cam, &ms);
    NL_ASSERT_EQ(ms.playing, 3);
    check_playing(cam);
    NL_ASSERT_EQ(c_request(&h, &c[0], "TEARDOWN", 3, NULL), 200);
    nl_rtsp_mount_get_stats(cam, &ms);
    NL_ASSERT_EQ(ms.playing, 2);
    check_playing(cam);
    close(c[2].fd);
    for (int i = 0; i < 20; i++)
        nl_loop_run_once(h.loop, 1);
    nl_rtsp_mount_get_stats(cam, &ms);
    NL_ASSERT_EQ(ms.playing, 1);
    check_playing(cam);
    NL_ASSERT_EQ(ms.clients, 2); /* the paused one is still a client */
    nl_rtsp_server_get_stats(h.srv, &ss);
    NL_ASSERT_EQ(ss.playing, 1);

    /* frames reach the one playing client only */
    unsigned f1 = c[1].frames, f3 = c[3].frames;
    for (int k = 0; k < 10; k++) {
        push_frame(&h, cam, 800);
        nl_loop_run_once(h.loop, 0);
        c_read(&c[1], 0);
        c_read(&c[3], 0);
    }
    NL_ASSERT_EQ(c[1].frames, f1);
    NL_ASSERT_EQ(c[3].frames - f3, 10);

    /* PLAY again: back in the array (its last slot), frames from the next
     * keyframe on */
    unsigned pushed = (unsigned)h.frame;
    NL_ASSERT_EQ(c_request(&h, &c[1], "PLAY", 4, cam), 200);
    for (int k = 0; k < 5; k++) {
        push_frame(&h, cam, 800);
        nl_loop_run_once(h.loop, 0);
    }
    c_read(&c[3], 0);
    nl_rtsp_mount_get_stats(cam, &ms);
    NL_ASSERT_EQ(ms.playing, 2);
    check_playing(cam);
    nl_rtsp_server_get_stats(h.srv, &ss);
    NL_ASSERT_EQ(ss.playing, 2);
    NL_ASSERT_UEQ(c[3].frames - f3, 10 + (unsigned)h.frame - pushed);
    NL_ASSERT_EQ(c[3].gaps, 0);
    /* and out of the last slot */
    NL_ASSERT_EQ(c_request(&h, &c[1], "PAUSE", 5, NULL), 200);
    check_playing(cam);
    NL_ASSERT_EQ(cam->nplaying, 1);
    close(c[0].fd);
    close(c[1].fd);
    close(c[3].fd);
    h_free(&h);
}

int main(void)
{
    NL_RUN(test_direct_and_no_alloc);
    NL_RUN(test_partial_writes_keep_order);
    NL_RUN(test_playing_set);
    NL_DONE();
}
