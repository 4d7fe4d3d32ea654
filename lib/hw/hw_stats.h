/* Process-wide counters of lib/hw, exported by nl_hw_get_stats().
 *
 * Plain events (opened, dropped, ...) are atomic counters bumped where they
 * happen. Gauges (live encoders, running threads) are never counted by hand:
 * each live object sits in a mutex-protected intrusive list and the gauge is
 * the list's length, so it cannot drift when an error path forgets a
 * decrement. */
#ifndef NL_HW_STATS_H
#define NL_HW_STATS_H

#include <stdint.h>

typedef enum nl__hw_counter {
    NL__HWC_ENC_OPENED = 0,
    NL__HWC_ENC_CLOSED,
    NL__HWC_ENC_VAAPI,
    NL__HWC_ENC_SOFTWARE,
    NL__HWC_FALLBACKS,
    NL__HWC_DEV_OPENED,
    NL__HWC_DEV_CLOSED,
    NL__HWC_THR_STARTED,
    NL__HWC_THR_JOINED,
    NL__HWC_THR_ABANDONED,
    NL__HWC_FRAMES_DECODED,
    NL__HWC_FRAMES_ENCODED,
    NL__HWC_PKTS_DROPPED,
    NL__HWC_GOPS_DROPPED,
    NL__HWC_SNAPSHOTS,
    NL__HWC_SNAP_CACHE_HITS,
    NL__HWC_COUNT,
} nl__hw_counter;

/* Which list a live object is in. */
typedef enum nl__hw_list {
    NL__HWL_ENCODERS = 0, /* nl_hwenc contexts from creation to arena release */
    NL__HWL_THREADS = 1,  /* worker and closer threads from start to exit */
    NL__HWL_COUNT,
} nl__hw_list;

typedef struct nl__hw_node {
    struct nl__hw_node *prev, *next;
    int linked;
} nl__hw_node;

void nl__hw_count(nl__hw_counter c, uint64_t n);
/* Links / unlinks an object; unlinking an unlinked node is a no-op. */
void nl__hw_live_add(nl__hw_list list, nl__hw_node *node);
void nl__hw_live_remove(nl__hw_list list, nl__hw_node *node);
uint64_t nl__hw_live_count(nl__hw_list list);

#endif
