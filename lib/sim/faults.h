/* Fault modes of the simulated camera: the command-line parser (public
 * nl_sim_fault_parse), a per-run table of which faults are on, and the small
 * helpers the connections use to act them out (a random byte source for
 * nonces and garbage, a token bucket for drip). */
#ifndef NL_SIM_FAULTS_H
#define NL_SIM_FAULTS_H

#include <stddef.h>
#include <stdint.h>

#include "neolink/sim.h"

/* Which faults a run has; arg as in nl_sim_fault (ms, or bytes/s for drip). */
typedef struct nl__sim_faults {
    uint8_t on[NL_SIM_FAULT_KINDS];
    uint64_t arg[NL_SIM_FAULT_KINDS];
} nl__sim_faults;

/* Fills f from a config's list. NL_ECONFIG for a kind out of range, a kind
 * given twice or a zero drip rate. */
int nl__sim_faults_load(nl__sim_faults *f, const nl_sim_fault *list, unsigned n);

/* True when a streaming-time fault of this kind is on and `streaming_ms`
 * (time since the connection's first stream started) has reached its time. */
static inline int nl__sim_fault_due(const nl__sim_faults *f, nl_sim_fault_kind k,
                                    uint64_t streaming_ms)
{
    return f->on[k] && streaming_ms >= f->arg[k];
}

/* xorshift64* generator: cheap bytes for garbage. Not for secrets. */
uint64_t nl__sim_rand(uint64_t *state);
void nl__sim_rand_fill(uint64_t *state, uint8_t *p, size_t n);
/* Seed from the OS (getrandom), falling back to the clock. Never 0. */
uint64_t nl__sim_rand_seed(void);

/* Token bucket for drip:BYTES: at most `rate` bytes per second, with a burst
 * of one second's worth. */
typedef struct nl__sim_bucket {
    uint64_t rate;    /* bytes per second; 0 = unlimited */
    uint64_t tokens;  /* bytes that may be sent now */
    uint64_t last_ns; /* when tokens were last refilled */
} nl__sim_bucket;

void nl__sim_bucket_init(nl__sim_bucket *b, uint64_t rate, uint64_t now_ns);
/* Bytes allowed now (refills first); SIZE_MAX when unlimited. */
size_t nl__sim_bucket_allow(nl__sim_bucket *b, uint64_t now_ns);
void nl__sim_bucket_take(nl__sim_bucket *b, size_t n);
/* Nanoseconds until at least one byte is allowed again (0 if now). */
uint64_t nl__sim_bucket_wait_ns(const nl__sim_bucket *b);

#endif
