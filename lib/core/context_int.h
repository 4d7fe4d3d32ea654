/* The body of nl_ctx. Only lib/core needs it: other modules log through
 * nl__log() and never look inside. */
#ifndef NL_CORE_CONTEXT_INT_H
#define NL_CORE_CONTEXT_INT_H

#include <stdatomic.h>

#include "neolink/context.h"

struct nl_ctx {
    nl_log_fn log_fn; /* fixed at creation: no lock needed to read it */
    void *log_ud;
    atomic_int level; /* changed at run time from any thread */
};

#endif
