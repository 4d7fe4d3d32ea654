/* Host name resolution without blocking the loop.
 *
 * getaddrinfo() blocks (DNS, /etc/hosts, NSS modules), so a name is resolved
 * on a short-lived detached thread. The thread never touches the loop or the
 * camera: it fills a small refcounted job and writes to the job's eventfd,
 * which the session watches like any socket. Either side may finish first;
 * the last reference frees the job, so a camera destroyed mid-lookup neither
 * waits for the thread nor leaves it writing into freed memory.
 *
 * Numeric addresses (the common case for cameras, and every test) resolve
 * inline with AI_NUMERICHOST, which never blocks and starts no thread. */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "bc/session_int.h"
#include "core/alloc.h"
#include "core/thread.h"
#include "neolink/error.h"

struct nl__resolver {
    atomic_int refs; /* the session's and the thread's */
    atomic_int done; /* set by the thread after filling the result */
    int efd;
    int gai_rc;
    struct addrinfo *ai;
    char host[NL__CAM_HOST_MAX];
    char port[8];
};

static void resolver_unref(nl__resolver *r)
{
    if (atomic_fetch_sub_explicit(&r->refs, 1, memory_order_acq_rel) != 1)
        return;
    if (r->ai)
        freeaddrinfo(r->ai);
    close(r->efd);
    nl__free(r);
}

static void hints_init(struct addrinfo *h, int flags)
{
    memset(h, 0, sizeof *h);
    h->ai_family = AF_UNSPEC;
    h->ai_socktype = SOCK_STREAM;
    h->ai_protocol = IPPROTO_TCP;
    /* No AI_ADDRCONFIG: a host whose only interface is loopback must still
     * resolve "localhost". */
    h->ai_flags = flags | AI_NUMERICSERV;
}

static void *resolver_main(void *arg)
{
    nl__resolver *r = arg;
    struct addrinfo hints;
    hints_init(&hints, 0);
    r->gai_rc = getaddrinfo(r->host, r->port, &hints, &r->ai);
    atomic_store_explicit(&r->done, 1, memory_order_release);
    uint64_t one = 1;
    ssize_t n = write(r->efd, &one, sizeof one); /* cannot fail short: eventfd */
    (void)n;
    resolver_unref(r);
    return NULL;
}

static int map_gai(int rc)
{
    switch (rc) {
    case EAI_MEMORY:
        return NL_ENOMEM;
    case EAI_SYSTEM:
        return nl_err_from_errno(errno);
    default: /* EAI_AGAIN and EAI_NONAME included: the host cannot be reached */
        return NL_EHOSTUNREACH;
    }
}

int nl__resolver_start(const char *host, uint16_t port, nl__resolver **out, struct addrinfo **ai)
{
    *out = NULL;
    *ai = NULL;
    char ports[8];
    snprintf(ports, sizeof ports, "%u", (unsigned)port);
    struct addrinfo hints;
    hints_init(&hints, AI_NUMERICHOST);
    int rc = getaddrinfo(host, ports, &hints, ai);
    if (rc == 0)
        return 0;
    *ai = NULL;
    if (rc != EAI_NONAME)
        return map_gai(rc);

    nl__resolver *r = nl__calloc(1, sizeof *r);
    if (!r)
        return NL_ENOMEM;
    r->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (r->efd < 0) {
        rc = nl_err_from_errno(errno);
        nl__free(r);
        return rc;
    }
    snprintf(r->host, sizeof r->host, "%s", host);
    memcpy(r->port, ports, sizeof r->port);
    atomic_init(&r->refs, 2);
    atomic_init(&r->done, 0);

    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    pthread_t tid;
    rc = nl__thread_create(&tid, &attr, resolver_main, r); /* the host's signals stay away */
    pthread_attr_destroy(&attr);
    if (rc != 0) {
        close(r->efd);
        nl__free(r);
        return nl_err_from_errno(rc);
    }
    *out = r;
    return 0;
}

int nl__resolver_fd(const nl__resolver *r)
{
    return r->efd;
}

int nl__resolver_result(nl__resolver *r, struct addrinfo **ai, const char **msg)
{
    *ai = NULL;
    *msg = NULL;
    if (!atomic_load_explicit(&r->done, memory_order_acquire))
        return NL_EAGAIN;
    if (r->gai_rc != 0) {
        *msg = gai_strerror(r->gai_rc);
        return map_gai(r->gai_rc);
    }
    *ai = r->ai;
    r->ai = NULL;
    return 0;
}

void nl__resolver_release(nl__resolver **pr)
{
    if (!pr || !*pr)
        return;
    resolver_unref(*pr);
    *pr = NULL;
}
