/* Library contexts: the log sink and level. Nothing here is process-wide, so
 * two contexts (two embedders in one process) never see each other's logs. */
#include <stdatomic.h>
#include <strings.h>

#include "core/alloc.h"
#include "core/context_int.h"
#include "neolink/error.h"

NL_EXPORT int nl_ctx_create(nl_ctx **out, const nl_ctx_config *cfg)
{
    *out = NULL;
    nl_ctx *ctx = nl__calloc(1, sizeof *ctx);
    if (!ctx)
        return NL_ENOMEM;
    int level = NL_LOG_ERROR;
    if (cfg) {
        ctx->log_fn = cfg->log_fn;
        ctx->log_ud = cfg->log_ud;
        level = (int)cfg->log_level;
    }
    atomic_init(&ctx->level, level);
    *out = ctx;
    return 0;
}

NL_EXPORT void nl_ctx_destroy(nl_ctx **ctx)
{
    if (!ctx || !*ctx)
        return;
    nl__free(*ctx);
    *ctx = NULL;
}

NL_EXPORT void nl_ctx_set_log_level(nl_ctx *ctx, nl_log_level level)
{
    if (ctx)
        atomic_store_explicit(&ctx->level, (int)level, memory_order_relaxed);
}

NL_EXPORT int nl_log_level_parse(const char *name)
{
    static const char *const names[] = {"error", "warn", "info", "debug", "trace"};
    if (!name)
        return NL_EINVAL;
    for (int i = 0; i < (int)(sizeof names / sizeof names[0]); i++) {
        if (strcasecmp(name, names[i]) == 0)
            return i;
    }
    /* The long spelling is common in configs written for other tools. */
    if (strcasecmp(name, "warning") == 0)
        return NL_LOG_WARN;
    return NL_EINVAL;
}
