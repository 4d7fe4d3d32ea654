/* Log lines: "[who] message", level filtering per context, truncation with
 * "...", dropping without a sink, and redaction of secrets and URL passwords. */
#include <string.h>

#include "core/log.h"
#include "neolink/context.h"
#include "neolink/error.h"
#include "test.h"

typedef struct sink {
    int calls;
    nl_log_level level;
    char line[NL_LOG_LINE_MAX + 16];
    size_t len;
} sink;

static void capture(void *ud, nl_log_level level, const char *line)
{
    sink *s = ud;
    s->calls++;
    s->level = level;
    s->len = strlen(line);
    memcpy(s->line, line, s->len + 1);
}

static nl_ctx *make_ctx(sink *s, nl_log_level level)
{
    nl_ctx *ctx = NULL;
    nl_ctx_config cfg = {.log_fn = capture, .log_ud = s, .log_level = level};
    NL_ASSERT_OK(nl_ctx_create(&ctx, &cfg));
    NL_ASSERT(ctx != NULL);
    return ctx;
}

static void test_format(void)
{
    sink s = {0};
    nl_ctx *ctx = make_ctx(&s, NL_LOG_DEBUG);
    NL_LOGI(ctx, "camera yard", "login ok after %d ms", 120);
    NL_ASSERT_EQ(s.calls, 1);
    NL_ASSERT_EQ(s.level, NL_LOG_INFO);
    NL_ASSERT_STREQ(s.line, "[camera yard] login ok after 120 ms");
    NL_LOGW(ctx, NULL, "no owner %s", "here");
    NL_ASSERT_STREQ(s.line, "no owner here");
    NL_LOGE(ctx, "", "empty who");
    NL_ASSERT_STREQ(s.line, "empty who");
    /* a trailing newline added by habit is dropped */
    NL_LOGI(ctx, "rtsp client 7", "bye\n");
    NL_ASSERT_STREQ(s.line, "[rtsp client 7] bye");
    NL_ASSERT_EQ(s.calls, 4);
    nl_ctx_destroy(&ctx);
    NL_ASSERT(ctx == NULL);
    nl_ctx_destroy(&ctx); /* pointer to NULL: no-op */
    nl_ctx_destroy(NULL);
}

static void test_levels(void)
{
    sink s = {0};
    nl_ctx *ctx = make_ctx(&s, NL_LOG_WARN);
    NL_ASSERT(nl__log_enabled(ctx, NL_LOG_ERROR));
    NL_ASSERT(nl__log_enabled(ctx, NL_LOG_WARN));
    NL_ASSERT(!nl__log_enabled(ctx, NL_LOG_INFO));
    NL_LOGD(ctx, "x", "dropped");
    NL_LOGI(ctx, "x", "dropped");
    NL_ASSERT_EQ(s.calls, 0);
    NL_LOGW(ctx, "x", "kept");
    NL_LOGE(ctx, "x", "kept");
    NL_ASSERT_EQ(s.calls, 2);
    nl_ctx_set_log_level(ctx, NL_LOG_TRACE);
    NL_LOGT(ctx, "x", "trace %u", 5u);
    NL_ASSERT_EQ(s.calls, 3);
    NL_ASSERT_EQ(s.level, NL_LOG_TRACE);
    NL_ASSERT_STREQ(s.line, "[x] trace 5");
    nl_ctx_set_log_level(ctx, NL_LOG_ERROR);
    NL_LOGW(ctx, "x", "dropped");
    NL_ASSERT_EQ(s.calls, 3);
    nl_ctx_destroy(&ctx);
}

static void test_drop_without_sink(void)
{
    /* NULL ctx, NULL cfg and a NULL fn all drop silently */
    NL_LOGE(NULL, "x", "nowhere %d", 1);
    NL_ASSERT(!nl__log_enabled(NULL, NL_LOG_ERROR));
    nl_ctx *ctx = NULL;
    NL_ASSERT_OK(nl_ctx_create(&ctx, NULL));
    NL_ASSERT(!nl__log_enabled(ctx, NL_LOG_ERROR));
    NL_LOGE(ctx, "x", "nowhere");
    nl_ctx_destroy(&ctx);
    nl_ctx_config cfg = {.log_fn = NULL, .log_level = NL_LOG_TRACE};
    NL_ASSERT_OK(nl_ctx_create(&ctx, &cfg));
    NL_LOGE(ctx, "x", "nowhere");
    nl_ctx_destroy(&ctx);
}

static void test_two_contexts_independent(void)
{
    sink a = {0}, b = {0};
    nl_ctx *ca = make_ctx(&a, NL_LOG_INFO);
    nl_ctx *cb = make_ctx(&b, NL_LOG_ERROR);
    NL_LOGI(ca, "a", "one");
    NL_LOGI(cb, "b", "two");
    NL_ASSERT_EQ(a.calls, 1);
    NL_ASSERT_EQ(b.calls, 0);
    NL_ASSERT_STREQ(a.line, "[a] one");
    nl_ctx_destroy(&ca);
    nl_ctx_destroy(&cb);
}

static void test_truncation(void)
{
    sink s = {0};
    nl_ctx *ctx = make_ctx(&s, NL_LOG_INFO);
    char big[3000];
    memset(big, 'z', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    NL_LOGI(ctx, "cam", "%s", big);
    NL_ASSERT_EQ(s.len, NL_LOG_LINE_MAX - 1);
    NL_ASSERT(memcmp(s.line, "[cam] zzz", 9) == 0);
    NL_ASSERT_STREQ(s.line + s.len - 4, "z...");

    /* a line of exactly NL_LOG_LINE_MAX - 1 characters fits untouched */
    size_t body = NL_LOG_LINE_MAX - 1 - strlen("[cam] ");
    big[body] = '\0';
    NL_LOGI(ctx, "cam", "%s", big);
    NL_ASSERT_EQ(s.len, NL_LOG_LINE_MAX - 1);
    NL_ASSERT_EQ(s.line[s.len - 1], 'z');
    /* one more character and it is cut */
    big[body] = 'z';
    big[body + 1] = '\0';
    NL_LOGI(ctx, "cam", "%s", big);
    NL_ASSERT_EQ(s.len, NL_LOG_LINE_MAX - 1);
    NL_ASSERT_STREQ(s.line + s.len - 3, "...");

    /* an enormous "who" is cut too, never overflowing */
    memset(big, 'w', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    NL_LOGI(ctx, big, "msg");
    NL_ASSERT_EQ(s.len, NL_LOG_LINE_MAX - 1);
    NL_ASSERT_EQ(s.line[0], '[');
    NL_ASSERT_STREQ(s.line + s.len - 3, "...");
    nl_ctx_destroy(&ctx);
}

static void test_level_parse(void)
{
    NL_ASSERT_EQ(nl_log_level_parse("error"), NL_LOG_ERROR);
    NL_ASSERT_EQ(nl_log_level_parse("warn"), NL_LOG_WARN);
    NL_ASSERT_EQ(nl_log_level_parse("warning"), NL_LOG_WARN);
    NL_ASSERT_EQ(nl_log_level_parse("info"), NL_LOG_INFO);
    NL_ASSERT_EQ(nl_log_level_parse("debug"), NL_LOG_DEBUG);
    NL_ASSERT_EQ(nl_log_level_parse("trace"), NL_LOG_TRACE);
    NL_ASSERT_EQ(nl_log_level_parse("DEBUG"), NL_LOG_DEBUG);
    NL_ASSERT_EQ(nl_log_level_parse("verbose"), NL_EINVAL);
    NL_ASSERT_EQ(nl_log_level_parse(""), NL_EINVAL);
    NL_ASSERT_EQ(nl_log_level_parse("info "), NL_EINVAL);
    NL_ASSERT_EQ(nl_log_level_parse(NULL), NL_EINVAL);
}

static void test_redact(void)
{
    char out[128];
    const char *secrets[] = {"hunter2", "", "s3cr3t", NULL};
    size_t n =
        nl_redact(out, sizeof out, "<password>hunter2</password><x>s3cr3t hunter2</x>", secrets);
    NL_ASSERT_STREQ(out, "<password>***</password><x>*** ***</x>");
    NL_ASSERT_EQ(n, strlen(out));

    /* the longest matching secret wins: no tail of the longer one leaks */
    const char *nested[] = {"abc", "abcdef", NULL};
    nl_redact(out, sizeof out, "x=abcdef y=abc", nested);
    NL_ASSERT_STREQ(out, "x=*** y=***");

    /* no secrets: plain copy */
    nl_redact(out, sizeof out, "nothing to hide", NULL);
    NL_ASSERT_STREQ(out, "nothing to hide");
    const char *none[] = {NULL};
    nl_redact(out, sizeof out, "still nothing", none);
    NL_ASSERT_STREQ(out, "still nothing");

    /* truncation always terminates and never writes a secret */
    char small[8];
    n = nl_redact(small, sizeof small, "ab hunter2 cd", secrets);
    NL_ASSERT_EQ(n, 7);
    NL_ASSERT_STREQ(small, "ab *** ");
    n = nl_redact(small, 4, "hunter2hunter2", secrets);
    NL_ASSERT_STREQ(small, "***");
    NL_ASSERT_EQ(n, 3);
    NL_ASSERT_EQ(nl_redact(small, 0, "x", secrets), 0);
    n = nl_redact(small, sizeof small, NULL, secrets);
    NL_ASSERT_EQ(n, 0);
    NL_ASSERT_STREQ(small, "");
}

static void test_redact_url(void)
{
    char out[128];
    size_t n = nl_redact_url(out, sizeof out, "rtsp://admin:hunter2@10.0.0.5:554/live");
    NL_ASSERT_STREQ(out, "rtsp://admin:***@10.0.0.5:554/live");
    NL_ASSERT_EQ(n, strlen(out));
    nl_redact_url(out, sizeof out, "rtsp://u:p@h/");
    NL_ASSERT_STREQ(out, "rtsp://u:***@h/");
    /* a password holding '@' or ':' is still hidden completely */
    nl_redact_url(out, sizeof out, "rtsp://u:p@ss:w@host/path");
    NL_ASSERT_STREQ(out, "rtsp://u:***@host/path");
    /* user without password, or no userinfo: unchanged */
    nl_redact_url(out, sizeof out, "rtsp://admin@host/x");
    NL_ASSERT_STREQ(out, "rtsp://admin@host/x");
    nl_redact_url(out, sizeof out, "rtsp://host:554/a@b");
    NL_ASSERT_STREQ(out, "rtsp://host:554/a@b");
    nl_redact_url(out, sizeof out, "rtsp://host/x?user=a:b@c");
    NL_ASSERT_STREQ(out, "rtsp://host/x?user=a:b@c");
    /* no scheme: userinfo at the start */
    nl_redact_url(out, sizeof out, "u:pw@host");
    NL_ASSERT_STREQ(out, "u:***@host");
    /* truncated output */
    char small[12];
    n = nl_redact_url(small, sizeof small, "rtsp://u:p@h/");
    NL_ASSERT_STREQ(small, "rtsp://u:**");
    NL_ASSERT_EQ(n, 11);
}

int main(void)
{
    NL_RUN(test_format);
    NL_RUN(test_levels);
    NL_RUN(test_drop_without_sink);
    NL_RUN(test_two_contexts_independent);
    NL_RUN(test_truncation);
    NL_RUN(test_level_parse);
    NL_RUN(test_redact);
    NL_RUN(test_redact_url);
    NL_DONE();
}
