/* Thread start/join/abandon with accounting. See thread.h. */
#include <errno.h>
#include <time.h>

#include "core/alloc.h"
#include "core/log.h"
#include "core/thread.h"
#include "hw/thread.h"
#include "neolink/error.h"
#include "neolink/hwenc.h"

int nl__hw_thread_start(pthread_t *th, nl__hw_node *node, void *(*fn)(void *), void *arg)
{
    nl__hw_live_add(NL__HWL_THREADS, node);
    int rc = nl__thread_create(th, NULL, fn, arg);
    if (rc != 0) {
        nl__hw_live_remove(NL__HWL_THREADS, node);
        return nl_err_from_errno(rc);
    }
    nl__hw_count(NL__HWC_THR_STARTED, 1);
    return 0;
}

void nl__hw_thread_done(nl__hw_node *node)
{
    nl__hw_live_remove(NL__HWL_THREADS, node);
}

int nl__hw_thread_join(pthread_t th, uint32_t timeout_ms)
{
    if (timeout_ms == NL_HW_WAIT_FOREVER) {
        pthread_join(th, NULL);
        nl__hw_count(NL__HWC_THR_JOINED, 1);
        return 0;
    }
    /* pthread_timedjoin_np wants an absolute CLOCK_REALTIME time. A wall
     * clock step during the wait can only lengthen or shorten this one
     * wait; nothing else depends on it. */
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_sec += timeout_ms / 1000;
    ts.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
    if (ts.tv_nsec >= 1000000000L) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000L;
    }
    int rc;
    do {
        rc = pthread_timedjoin_np(th, NULL, &ts);
    } while (rc == EINTR);
    if (rc == 0) {
        nl__hw_count(NL__HWC_THR_JOINED, 1);
        return 0;
    }
    pthread_detach(th);
    nl__hw_count(NL__HWC_THR_ABANDONED, 1);
    return NL_ETIMEDOUT;
}

typedef struct bounded_job {
    nl__hw_node node;
    void (*fn)(void *);
    void *arg;
} bounded_job;

static void *bounded_main(void *p)
{
    bounded_job *job = p;
    job->fn(job->arg);
    nl__hw_thread_done(&job->node);
    nl__free(job);
    return NULL;
}

int nl__hw_run_bounded(const nl_ctx *ctx, const char *who, const char *what, void (*fn)(void *),
                       void *arg, uint32_t timeout_ms)
{
    if (timeout_ms == NL_HW_WAIT_FOREVER) {
        fn(arg);
        return 0;
    }
    bounded_job *job = nl__calloc(1, sizeof *job);
    pthread_t th;
    if (job) {
        job->fn = fn;
        job->arg = arg;
        if (nl__hw_thread_start(&th, &job->node, bounded_main, job) != 0) {
            nl__free(job);
            job = NULL;
        }
    }
    if (!job) {
        /* No helper thread: doing the work unbounded beats leaking it. */
        NL_LOGW(ctx, who, "%s: no helper thread, running it unbounded", what);
        fn(arg);
        return 0;
    }
    int rc = nl__hw_thread_join(th, timeout_ms);
    if (rc == NL_ETIMEDOUT)
        NL_LOGW(ctx, who, "%s abandoned after %u ms (the helper thread finishes it alone)", what,
                (unsigned)timeout_ms);
    return rc;
}
