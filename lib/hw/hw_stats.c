/* Counters and live-object lists behind nl_hw_get_stats(). See hw_stats.h. */
#include <pthread.h>
#include <stdatomic.h>
#include <string.h>

#include "hw/hw_stats.h"
#include "neolink/error.h"
#include "neolink/hwenc.h"

static atomic_uint_fast64_t counters[NL__HWC_COUNT];

/* One mutex for both lists: they change at open/close and thread start/exit
 * only, never per frame. */
static pthread_mutex_t live_mu = PTHREAD_MUTEX_INITIALIZER;
static nl__hw_node live_head[NL__HWL_COUNT];
static uint64_t live_len[NL__HWL_COUNT];

void nl__hw_count(nl__hw_counter c, uint64_t n)
{
    if ((unsigned)c < NL__HWC_COUNT)
        atomic_fetch_add_explicit(&counters[c], n, memory_order_relaxed);
}

void nl__hw_live_add(nl__hw_list list, nl__hw_node *node)
{
    pthread_mutex_lock(&live_mu);
    nl__hw_node *head = &live_head[list];
    if (!head->next)
        head->next = head->prev = head;
    if (!node->linked) {
        node->next = head->next;
        node->prev = head;
        head->next->prev = node;
        head->next = node;
        node->linked = 1;
        live_len[list]++;
    }
    pthread_mutex_unlock(&live_mu);
}

void nl__hw_live_remove(nl__hw_list list, nl__hw_node *node)
{
    pthread_mutex_lock(&live_mu);
    if (node->linked) {
        node->prev->next = node->next;
        node->next->prev = node->prev;
        node->next = node->prev = NULL;
        node->linked = 0;
        live_len[list]--;
    }
    pthread_mutex_unlock(&live_mu);
}

uint64_t nl__hw_live_count(nl__hw_list list)
{
    pthread_mutex_lock(&live_mu);
    uint64_t n = live_len[list];
    pthread_mutex_unlock(&live_mu);
    return n;
}

static uint64_t get(nl__hw_counter c)
{
    return atomic_load_explicit(&counters[c], memory_order_relaxed);
}

NL_EXPORT int nl_hw_get_stats(nl_hw_stats *st, size_t size)
{
    if (!st)
        return NL_EINVAL;
    nl_hw_stats s = {
        .encoders_opened = get(NL__HWC_ENC_OPENED),
        .encoders_closed = get(NL__HWC_ENC_CLOSED),
        .encoders_live = nl__hw_live_count(NL__HWL_ENCODERS),
        .encoders_vaapi = get(NL__HWC_ENC_VAAPI),
        .encoders_software = get(NL__HWC_ENC_SOFTWARE),
        .fallbacks = get(NL__HWC_FALLBACKS),
        .devices_opened = get(NL__HWC_DEV_OPENED),
        .devices_closed = get(NL__HWC_DEV_CLOSED),
        .workers_started = get(NL__HWC_THR_STARTED),
        .workers_joined = get(NL__HWC_THR_JOINED),
        .workers_abandoned = get(NL__HWC_THR_ABANDONED),
        .workers_running = nl__hw_live_count(NL__HWL_THREADS),
        .frames_decoded = get(NL__HWC_FRAMES_DECODED),
        .frames_encoded = get(NL__HWC_FRAMES_ENCODED),
        .packets_dropped = get(NL__HWC_PKTS_DROPPED),
        .gops_dropped = get(NL__HWC_GOPS_DROPPED),
        .snapshots = get(NL__HWC_SNAPSHOTS),
        .snapshot_cache_hits = get(NL__HWC_SNAP_CACHE_HITS),
    };
    memcpy(st, &s, size < sizeof s ? size : sizeof s);
    return 0;
}
