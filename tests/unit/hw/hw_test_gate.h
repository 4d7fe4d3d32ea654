/* A gate the worker-thread test hook blocks on until the test opens it:
 * how tests wedge a transcoder "inside the encoder". */
#ifndef HW_TEST_GATE_H
#define HW_TEST_GATE_H

#include <pthread.h>

typedef struct gate {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int open;
    int entered; /* times the hook was reached */
} gate;

#define GATE_INIT                                                                                  \
    {                                                                                              \
        PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0, 0                                  \
    }

static void gate_hook(void *ud)
{
    gate *g = ud;
    pthread_mutex_lock(&g->mu);
    g->entered++;
    pthread_cond_broadcast(&g->cv);
    while (!g->open)
        pthread_cond_wait(&g->cv, &g->mu);
    pthread_mutex_unlock(&g->mu);
}

/* Waits until the hook was reached n times (10 s at most). */
static int gate_wait_entered(gate *g, int n)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_sec += 10;
    pthread_mutex_lock(&g->mu);
    int rc = 0;
    while (g->entered < n && rc == 0)
        rc = pthread_cond_timedwait(&g->cv, &g->mu, &ts);
    int ok = g->entered >= n;
    pthread_mutex_unlock(&g->mu);
    return ok;
}

static void gate_open(gate *g)
{
    pthread_mutex_lock(&g->mu);
    g->open = 1;
    pthread_cond_broadcast(&g->cv);
    pthread_mutex_unlock(&g->mu);
}

#endif
