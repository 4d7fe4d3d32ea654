/* Fault parsing and the helpers that act faults out (see faults.h). */
#include <string.h>
#include <sys/random.h>

#include "core/time.h"
#include "neolink/error.h"
#include "sim/faults.h"

static const struct {
    const char *name;
    nl_sim_fault_kind kind;
    enum { ARG_NONE, ARG_SECONDS, ARG_OPT_SECONDS, ARG_BYTES } arg;
} fault_table[] = {
    {"drop", NL_SIM_FAULT_DROP, ARG_SECONDS},
    {"stall", NL_SIM_FAULT_STALL, ARG_SECONDS},
    {"garbage", NL_SIM_FAULT_GARBAGE, ARG_SECONDS},
    {"truncate", NL_SIM_FAULT_TRUNCATE, ARG_SECONDS},
    {"reject-login", NL_SIM_FAULT_REJECT_LOGIN, ARG_NONE},
    {"drip", NL_SIM_FAULT_DRIP, ARG_BYTES},
    {"restart", NL_SIM_FAULT_RESTART, ARG_SECONDS},
    {"clock-jump", NL_SIM_FAULT_CLOCK_JUMP, ARG_SECONDS},
    {"big-length", NL_SIM_FAULT_BIG_LENGTH, ARG_OPT_SECONDS},
};
#define FAULT_COUNT (sizeof fault_table / sizeof fault_table[0])

#define MAX_FAULT_MS  (86400ull * 1000ull)
#define MAX_DRIP_RATE 1000000000ull

const char *nl_sim_fault_name(nl_sim_fault_kind kind)
{
    for (size_t i = 0; i < FAULT_COUNT; i++)
        if (fault_table[i].kind == kind)
            return fault_table[i].name;
    return "none";
}

/* "12", "0.5", "1.25" seconds -> milliseconds (at most 3 decimals). */
static int parse_seconds(const char *s, uint64_t *ms)
{
    uint64_t whole = 0, frac = 0;
    unsigned digits = 0, fdigits = 0;
    for (; *s >= '0' && *s <= '9'; s++, digits++) {
        whole = whole * 10 + (uint64_t)(*s - '0');
        if (whole > MAX_FAULT_MS / 1000)
            return NL_EINVAL;
    }
    if (*s == '.') {
        s++;
        for (; *s >= '0' && *s <= '9'; s++, fdigits++) {
            if (fdigits >= 3)
                return NL_EINVAL;
            frac = frac * 10 + (uint64_t)(*s - '0');
        }
        if (!fdigits)
            return NL_EINVAL;
    }
    if (*s || !digits)
        return NL_EINVAL;
    while (fdigits++ < 3)
        frac *= 10;
    *ms = whole * 1000 + frac;
    return 0;
}

static int parse_bytes(const char *s, uint64_t *out)
{
    uint64_t v = 0;
    if (!*s)
        return NL_EINVAL;
    for (; *s; s++) {
        if (*s < '0' || *s > '9')
            return NL_EINVAL;
        v = v * 10 + (uint64_t)(*s - '0');
        if (v > MAX_DRIP_RATE)
            return NL_EINVAL;
    }
    if (v == 0)
        return NL_EINVAL;
    *out = v;
    return 0;
}

int nl_sim_fault_parse(const char *spec, nl_sim_fault *out)
{
    if (!spec || !out)
        return NL_EINVAL;
    const char *colon = strchr(spec, ':');
    size_t nlen = colon ? (size_t)(colon - spec) : strlen(spec);
    for (size_t i = 0; i < FAULT_COUNT; i++) {
        if (strlen(fault_table[i].name) != nlen || memcmp(fault_table[i].name, spec, nlen) != 0)
            continue;
        uint64_t arg = 0;
        int rc = 0;
        switch (fault_table[i].arg) {
        case ARG_NONE:
            rc = colon ? NL_EINVAL : 0;
            break;
        case ARG_OPT_SECONDS:
            rc = colon ? parse_seconds(colon + 1, &arg) : 0;
            break;
        case ARG_SECONDS:
            rc = colon ? parse_seconds(colon + 1, &arg) : NL_EINVAL;
            break;
        case ARG_BYTES:
            rc = colon ? parse_bytes(colon + 1, &arg) : NL_EINVAL;
            break;
        }
        if (rc < 0)
            return rc;
        out->kind = fault_table[i].kind;
        out->arg = arg;
        return 0;
    }
    return NL_EINVAL;
}

int nl__sim_faults_load(nl__sim_faults *f, const nl_sim_fault *list, unsigned n)
{
    memset(f, 0, sizeof *f);
    if (n > NL_SIM_MAX_FAULTS)
        return NL_ECONFIG;
    for (unsigned i = 0; i < n; i++) {
        nl_sim_fault_kind k = list[i].kind;
        if (k <= NL_SIM_FAULT_NONE || k >= NL_SIM_FAULT_KINDS || f->on[k])
            return NL_ECONFIG;
        if (k == NL_SIM_FAULT_DRIP && (list[i].arg == 0 || list[i].arg > MAX_DRIP_RATE))
            return NL_ECONFIG;
        if (k != NL_SIM_FAULT_DRIP && list[i].arg > MAX_FAULT_MS)
            return NL_ECONFIG;
        f->on[k] = 1;
        f->arg[k] = list[i].arg;
    }
    return 0;
}

uint64_t nl__sim_rand(uint64_t *state)
{
    uint64_t x = *state;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    *state = x;
    return x * UINT64_C(0x2545F4914F6CDD1D);
}

void nl__sim_rand_fill(uint64_t *state, uint8_t *p, size_t n)
{
    while (n) {
        uint64_t r = nl__sim_rand(state);
        size_t k = n < sizeof r ? n : sizeof r;
        memcpy(p, &r, k);
        p += k;
        n -= k;
    }
}

uint64_t nl__sim_rand_seed(void)
{
    uint64_t s = 0;
    if (getrandom(&s, sizeof s, GRND_NONBLOCK) != (ssize_t)sizeof s)
        s = nl_time_mono_ns() ^ nl_time_real_us();
    return s ? s : UINT64_C(0x9E3779B97F4A7C15);
}

void nl__sim_bucket_init(nl__sim_bucket *b, uint64_t rate, uint64_t now_ns)
{
    b->rate = rate;
    b->tokens = rate; /* one second's burst to start with */
    b->last_ns = now_ns;
}

size_t nl__sim_bucket_allow(nl__sim_bucket *b, uint64_t now_ns)
{
    if (!b->rate)
        return SIZE_MAX;
    if (now_ns > b->last_ns) {
        uint64_t dt = now_ns - b->last_ns;
        /* rate <= 1e9 and dt capped at 1 s keep the product in range */
        if (dt > NL_NS_PER_S)
            dt = NL_NS_PER_S;
        uint64_t add = dt * b->rate / NL_NS_PER_S;
        if (add) {
            b->tokens = b->tokens + add > b->rate ? b->rate : b->tokens + add;
            b->last_ns = now_ns;
        }
    }
    return b->tokens > SIZE_MAX ? SIZE_MAX : (size_t)b->tokens;
}

void nl__sim_bucket_take(nl__sim_bucket *b, size_t n)
{
    if (!b->rate)
        return;
    b->tokens = n >= b->tokens ? 0 : b->tokens - n;
}

uint64_t nl__sim_bucket_wait_ns(const nl__sim_bucket *b)
{
    if (!b->rate || b->tokens)
        return 0;
    /* Time for one byte, rounded up, at least 1 ms so a slow rate does not
     * wake the loop for every byte. */
    uint64_t ns = (NL_NS_PER_S + b->rate - 1) / b->rate;
    return ns < NL_NS_PER_MS ? NL_NS_PER_MS : ns;
}
