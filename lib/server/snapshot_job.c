/* One snapshot decode + JPEG encode on its own thread, reported back to the
 * loop through an eventfd (see snapshot.h).
 *
 * The job is shared by the loop side and the thread (two references). The
 * thread runs nl_snapshot_get(), stores the result in the job, and writes
 * the eventfd unless the loop side abandoned the job; `mu` orders that
 * write against the abandon, so an abandoned job's thread never touches the
 * (closed, maybe reused) descriptor nor the loop. Whoever drops the last
 * reference frees the job and the result nobody took. */
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "core/alloc.h"
#include "core/log.h"
#include "hw/thread.h"
#include "loop/loop_int.h"
#include "neolink/error.h"
#include "server/snapshot.h"

#define WHO "snapshot"

struct nl__snap_job {
    atomic_int refs;
    nl__hw_node node; /* in lib/hw's thread list while the thread runs */
    pthread_t th;
    pthread_mutex_t mu;
    bool abandoned; /* under mu */
    bool stored;    /* under mu: the thread stored its result (it is ending) */
    int efd;
    nl_io io;
    nl_loop *loop;
    const nl_ctx *ctx;
    nl__snap_src *src;
    nl__snap_job_done_fn done;
    void *ud;
    /* result, written by the thread before the eventfd */
    int rc;
    uint8_t *jpeg;
    size_t len;
    nl_snapshot_info info;
};

/* ---------------------------------------------------------------- shared pieces */

int nl__snap_src_create(nl__snap_src **out, nl_ctx *ctx)
{
    *out = NULL;
    nl__snap_src *src = nl__calloc(1, sizeof *src);
    if (!src)
        return NL_ENOMEM;
    /* The service keeps its own loop-side cache (NL_SNAP_CACHE_MS); the
     * source's cache only answers for the very same key frame. */
    nl_snapshot_config c = {.cache_ms = 1};
    int rc = nl_snapshot_create(&src->s, ctx, &c);
    if (rc < 0) {
        nl__free(src);
        return rc;
    }
    atomic_init(&src->refs, 1);
    atomic_init(&src->busy, 0);
    *out = src;
    return 0;
}

void nl__snap_src_unref(nl__snap_src **psrc)
{
    nl__snap_src *src = *psrc;
    *psrc = NULL;
    if (src && atomic_fetch_sub(&src->refs, 1) == 1) {
        nl_snapshot_destroy(&src->s);
        nl__free(src);
    }
}

void nl__snap_jpeg_unref(void *p)
{
    nl__snap_jpeg *j = p;
    if (j && --j->refs == 0) {
        nl_snapshot_free_jpeg(&j->data);
        nl__free(j);
    }
}

/* ---------------------------------------------------------------- job */

static void job_unref(nl__snap_job *job)
{
    if (atomic_fetch_sub(&job->refs, 1) != 1)
        return;
    nl_snapshot_free_jpeg(&job->jpeg);
    nl__snap_src_unref(&job->src);
    pthread_mutex_destroy(&job->mu);
    nl__free(job);
}

static void *job_main(void *arg)
{
    nl__snap_job *job = arg;
    atomic_store(&job->src->busy, 1);
    uint8_t *jpeg = NULL;
    size_t len = 0;
    nl_snapshot_info info = {0};
    int rc = nl_snapshot_get(job->src->s, &jpeg, &len, &info);
    atomic_store(&job->src->busy, 0);
    pthread_mutex_lock(&job->mu);
    job->rc = rc;
    job->jpeg = jpeg;
    job->len = len;
    job->info = info;
    job->stored = true;
    if (!job->abandoned) {
        uint64_t one = 1;
        ssize_t n;
        do
            n = write(job->efd, &one, sizeof one);
        while (n < 0 && errno == EINTR);
    }
    pthread_mutex_unlock(&job->mu);
    nl__hw_thread_done(&job->node);
    job_unref(job);
    return NULL;
}

static void on_job_io(nl_io *io, unsigned events)
{
    nl__snap_job *job = io->data;
    uint64_t v;
    if (read(job->efd, &v, sizeof v) < 0 && errno == EAGAIN)
        return;
    nl_io_stop(job->loop, &job->io);
    pthread_mutex_lock(&job->mu);
    int rc = job->rc;
    nl__snap_jpeg *out = NULL;
    if (rc == 0) {
        out = nl__calloc(1, sizeof *out);
        if (out) {
            out->refs = 1;
            out->data = job->jpeg;
            out->len = job->len;
            out->width = job->info.width;
            out->height = job->info.height;
            out->pts = job->info.pts;
            job->jpeg = NULL;
        } else {
            rc = NL_ENOMEM;
        }
    }
    pthread_mutex_unlock(&job->mu);
    nl__snap_job_done_fn done = job->done;
    job->done = NULL;
    if (done)
        done(job->ud, job, rc, out); /* may release the job */
    else
        nl__snap_jpeg_unref(out);
}

int nl__snap_job_start(nl__snap_job **out, nl_loop *loop, const nl_ctx *ctx, nl__snap_src *src,
                       nl__snap_job_done_fn done, void *ud)
{
    *out = NULL;
    nl__snap_job *job = nl__calloc(1, sizeof *job);
    if (!job)
        return NL_ENOMEM;
    if (pthread_mutex_init(&job->mu, NULL) != 0) {
        nl__free(job);
        return NL_ENOMEM;
    }
    job->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (job->efd < 0) {
        int rc = nl_err_from_errno(errno);
        pthread_mutex_destroy(&job->mu);
        nl__free(job);
        return rc;
    }
    job->loop = loop;
    job->ctx = ctx;
    job->done = done;
    job->ud = ud;
    atomic_fetch_add(&src->refs, 1);
    job->src = src;
    atomic_init(&job->refs, 2); /* the loop side and the thread */
    nl_io_init(&job->io, job->efd, on_job_io, job);
    int rc = nl_io_start(loop, &job->io, NL_IO_READ);
    if (rc == 0)
        rc = nl__hw_thread_start(&job->th, &job->node, job_main, job);
    if (rc < 0) {
        nl_io_stop(loop, &job->io);
        close(job->efd);
        atomic_store(&job->refs, 1);
        job_unref(job);
        return rc;
    }
    *out = job;
    return 0;
}

void nl__snap_job_set_done(nl__snap_job *job, nl__snap_job_done_fn done, void *ud)
{
    job->done = done;
    job->ud = ud;
}

int nl__snap_job_release(nl__snap_job **pjob, uint32_t join_ms)
{
    nl__snap_job *job = *pjob;
    if (!job)
        return 0;
    *pjob = NULL;
    nl_io_stop(job->loop, &job->io);
    job->done = NULL;
    pthread_mutex_lock(&job->mu);
    bool finished = job->stored; /* then the thread is only returning */
    job->abandoned = true;
    pthread_mutex_unlock(&job->mu);
    close(job->efd); /* the thread writes it only under mu, before `abandoned` */
    job->efd = -1;
    int rc = nl__hw_thread_join(job->th, finished ? NL_HW_WAIT_FOREVER : join_ms);
    if (rc == NL_ETIMEDOUT)
        NL_LOGW(job->ctx, WHO, "JPEG encode (decoding a key frame) abandoned after %u ms",
                (unsigned)join_ms);
    job_unref(job);
    return rc;
}
