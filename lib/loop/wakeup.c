/* The two thread-safe entries: nl_loop_post (mutex-protected queue, then a
 * wakeup) and nl_loop_wakeup (an eventfd write). Everything else in the loop
 * belongs to the loop thread. */
#include <errno.h>
#include <stdint.h>
#include <unistd.h>

#include "core/alloc.h"
#include "loop/loop_priv.h"
#include "neolink/error.h"

NL_EXPORT void nl_loop_wakeup(nl_loop *loop)
{
    uint64_t one = 1;
    /* EAGAIN means the counter is saturated: the fd is readable anyway. */
    ssize_t w;
    do {
        w = write(loop->evfd, &one, sizeof one);
    } while (w < 0 && errno == EINTR);
}

void nl__loop_drain_wakeup(nl_loop *loop)
{
    uint64_t v;
    ssize_t r;
    do {
        r = read(loop->evfd, &v, sizeof v);
    } while (r < 0 && errno == EINTR);
}

NL_EXPORT int nl_loop_post(nl_loop *loop, void (*fn)(void *arg), void *arg)
{
    if (!loop || !fn)
        return NL_EINVAL;
    pthread_mutex_lock(&loop->post_mu);
    nl_post *p = loop->post_free;
    if (p) {
        loop->post_free = p->next;
        loop->post_free_len--;
    }
    pthread_mutex_unlock(&loop->post_mu);
    /* Allocate outside the lock: the allocator may be slow. */
    if (!p && !(p = nl__malloc(sizeof *p)))
        return NL_ENOMEM;
    p->next = NULL;
    p->fn = fn;
    p->arg = arg;
    pthread_mutex_lock(&loop->post_mu);
    if (loop->post_tail)
        loop->post_tail->next = p;
    else
        loop->post_head = p;
    loop->post_tail = p;
    pthread_mutex_unlock(&loop->post_mu);
    nl_loop_wakeup(loop);
    return 0;
}

/* Takes the whole queue at once: posts made while these run wait for the
 * next iteration, so a callback that re-posts itself cannot starve I/O. */
static nl_post *take_posts(nl_loop *loop)
{
    pthread_mutex_lock(&loop->post_mu);
    nl_post *p = loop->post_head;
    loop->post_head = loop->post_tail = NULL;
    pthread_mutex_unlock(&loop->post_mu);
    return p;
}

static void free_chain(nl_post *p)
{
    while (p) {
        nl_post *next = p->next;
        nl__free(p);
        p = next;
    }
}

/* Returns a chain of used nodes to the free list (one lock), freeing what
 * exceeds NL_LOOP_POST_FREE_MAX. */
static void recycle(nl_loop *loop, nl_post *head)
{
    pthread_mutex_lock(&loop->post_mu);
    while (head && loop->post_free_len < NL_LOOP_POST_FREE_MAX) {
        nl_post *next = head->next;
        head->next = loop->post_free;
        loop->post_free = head;
        loop->post_free_len++;
        head = next;
    }
    pthread_mutex_unlock(&loop->post_mu);
    free_chain(head);
}

int nl__loop_run_posts(nl_loop *loop)
{
    int ran = 0;
    nl_post *head = take_posts(loop);
    /* The chain is ours alone now; fn/arg are read before each call and
     * nodes are only recycled after the last one ran. */
    for (nl_post *p = head; p; p = p->next) {
        p->fn(p->arg);
        ran++;
    }
    if (head)
        recycle(loop, head);
    return ran;
}

void nl__loop_free_posts(nl_loop *loop)
{
    free_chain(take_posts(loop));
    pthread_mutex_lock(&loop->post_mu);
    nl_post *f = loop->post_free;
    loop->post_free = NULL;
    loop->post_free_len = 0;
    pthread_mutex_unlock(&loop->post_mu);
    free_chain(f);
}
