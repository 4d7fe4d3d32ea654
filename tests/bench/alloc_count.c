/* Benchmark shim (LD_PRELOAD), built by tests/bench/bench.py: counts every
 * heap allocation of a process (malloc, calloc, realloc, the aligned
 * variants libavutil uses), whoever makes it: libneolink, libav*, libc.
 *
 *   cc -O2 -shared -fPIC -o alloc_count.so tests/bench/alloc_count.c
 *   NLBENCH_ALLOC_LOG=FILE LD_PRELOAD=./alloc_count.so PROGRAM...
 *
 * With NLBENCH_ALLOC_LOG a thread appends "SECONDS COUNT" (monotonic clock,
 * allocations so far) to FILE every 0.25 s, so a benchmark can take the
 * count over a steady window and divide by the frames in it. A program can
 * also ask directly, through dlsym: nlbench_allocs_total() for the process,
 * nlbench_allocs_thread() for the calling thread (rtsp_testsrv counts the
 * allocations inside each nl_rtsp_mount_push() call that way).
 * Frees are not counted: a steady state that allocates must also free. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

extern void *__libc_malloc(size_t n);
extern void *__libc_calloc(size_t n, size_t k);
extern void *__libc_realloc(void *p, size_t n);
extern void __libc_free(void *p);
extern void *__libc_memalign(size_t align, size_t n);

static atomic_long total;
static __thread long mine;

long nlbench_allocs_total(void);
long nlbench_allocs_thread(void);
long nlbench_allocs_total(void)
{
    return atomic_load_explicit(&total, memory_order_relaxed);
}
long nlbench_allocs_thread(void)
{
    return mine;
}

static inline void note(void)
{
    atomic_fetch_add_explicit(&total, 1, memory_order_relaxed);
    mine++;
}

void *malloc(size_t n)
{
    note();
    return __libc_malloc(n);
}

void *calloc(size_t n, size_t k)
{
    note();
    return __libc_calloc(n, k);
}

void *realloc(void *p, size_t n)
{
    note();
    return __libc_realloc(p, n);
}

void free(void *p)
{
    __libc_free(p);
}

void *memalign(size_t align, size_t n)
{
    note();
    return __libc_memalign(align, n);
}

void *aligned_alloc(size_t align, size_t n)
{
    note();
    return __libc_memalign(align, n);
}

int posix_memalign(void **out, size_t align, size_t n)
{
    if (align < sizeof(void *) || (align & (align - 1)))
        return EINVAL;
    note();
    void *p = __libc_memalign(align, n);
    if (!p)
        return ENOMEM;
    *out = p;
    return 0;
}

static void *reporter(void *arg)
{
    int fd = (int)(long)arg;
    for (;;) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        char line[64];
        int k = snprintf(line, sizeof line, "%ld.%03ld %ld\n", (long)ts.tv_sec,
                         ts.tv_nsec / 1000000, nlbench_allocs_total());
        if (write(fd, line, (size_t)k) != k)
            return NULL;
        struct timespec d = {0, 250000000};
        nanosleep(&d, NULL);
    }
}

__attribute__((constructor)) static void start(void)
{
    const char *path = getenv("NLBENCH_ALLOC_LOG");
    if (!path || !*path)
        return;
    /* The log is for the first process only, not the programs it runs. */
    unsetenv("NLBENCH_ALLOC_LOG");
    int fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (fd < 0)
        return;
    /* Every signal blocked in the reporter: a program that reads its
     * signals from a signalfd (serve, rtsp_testsrv) blocks them in main,
     * after this runs; a thread that left them open would get them. */
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    pthread_t t;
    pthread_attr_t a;
    pthread_attr_init(&a);
    pthread_attr_setdetachstate(&a, PTHREAD_CREATE_DETACHED);
    pthread_create(&t, &a, reporter, (void *)(long)fd);
    pthread_attr_destroy(&a);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
}
