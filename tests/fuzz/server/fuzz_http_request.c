/* Fuzz target: the HTTP request-head parser of the observability endpoint,
 * fed the way a connection feeds it (a buffer of NL_HTTP_MAX_HEAD bytes
 * filled by reads), plus the header lookup a handler would do.
 *
 * Input: byte 0 picks the read size of the second run (1..32 bytes; 0 and
 * anything above 32 mean one read of everything); the rest is what the
 * client sent. Each input is parsed twice - in one read, then in small
 * reads into a buffer that moves between reads (as a growing buffer does)
 * - and both outcomes must be identical: the answer may not depend on how
 * TCP split the bytes. Other invariants: every span lies inside the buffer,
 * errors carry one of the four statuses, and a full buffer always decides. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "neolink/error.h"
#include "server/http_parse.h"

#define CHECK(c)                                                                                   \
    do {                                                                                           \
        if (!(c))                                                                                  \
            abort();                                                                               \
    } while (0)

typedef struct result {
    int rc;
    int status;
    uint64_t hash; /* of everything the request yielded */
} result;

static uint8_t bufs[2][NL_HTTP_MAX_HEAD];

static uint64_t mix(uint64_t h, const void *p, size_t n)
{
    const uint8_t *b = p;
    for (size_t i = 0; i < n; i++)
        h = (h ^ b[i]) * 0x100000001b3ull;
    return (h ^ n) * 0x100000001b3ull;
}

static void inside(const uint8_t *buf, size_t len, const char *p, size_t n)
{
    if (n == 0)
        return;
    CHECK((const uint8_t *)p >= buf && (const uint8_t *)p + n <= buf + len);
}

static uint64_t digest(const nl_http_request *r, const uint8_t *buf, size_t len)
{
    CHECK(r->head_len > 0 && r->head_len <= len && r->head_len <= NL_HTTP_MAX_HEAD);
    inside(buf, len, r->method_str, r->method_len);
    CHECK(r->method_len >= 1 && r->method_len <= NL_HTTP_MAX_METHOD);
    CHECK(r->path_len >= 1);
    CHECK(r->path[0] == '/' || (r->path[0] == '*' && r->path_len == 1));
    if (!(r->path_len == 1 && r->path[0] == '/'))
        inside(buf, len, r->path, r->path_len); /* else maybe the static "/" */
    CHECK(!memchr(r->path, '?', r->path_len));
    if (r->query)
        inside(buf, len, r->query, r->query_len);
    CHECK(r->method != NL_HTTP_OTHER || r->method_len != 3 || memcmp(r->method_str, "GET", 3));
    CHECK(r->nheaders <= NL_HTTP_MAX_HEADERS);
    uint64_t h = 0xcbf29ce484222325ull;
    h = mix(h, r->method_str, r->method_len);
    h = mix(h, r->path, r->path_len);
    h = mix(h, r->query ? r->query : "", r->query_len);
    h = mix(h, &r->version_minor, sizeof r->version_minor);
    for (size_t i = 0; i < r->nheaders; i++) {
        const nl_http_header *hd = &r->headers[i];
        CHECK(hd->name_len >= 1);
        inside(buf, len, hd->name, hd->name_len);
        inside(buf, len, hd->value, hd->value_len);
        if (hd->value_len) {
            CHECK(hd->value[0] != ' ' && hd->value[0] != '\t');
            CHECK(hd->value[hd->value_len - 1] != ' ' && hd->value[hd->value_len - 1] != '\t');
        }
        h = mix(h, hd->name, hd->name_len);
        h = mix(h, hd->value, hd->value_len);
    }
    const nl_http_header *host = nl_http_request_header(r, "host");
    CHECK(host != NULL || r->version_minor == 0);
    return h;
}

/* Reads of `chunk` bytes into a NL_HTTP_MAX_HEAD buffer, like a connection.
 * With `move`, the bytes change buffer before every call. */
static result run(const uint8_t *data, size_t n, size_t chunk, int move)
{
    nl_http_parser p;
    nl_http_parser_init(&p);
    nl_http_request req;
    result res = {NL_EAGAIN, 0, 0};
    size_t len = 0;
    int cur = 0;
    while (res.rc == NL_EAGAIN) {
        size_t room = NL_HTTP_MAX_HEAD - len;
        size_t part = n - len < chunk ? n - len : chunk;
        if (part > room)
            part = room;
        if (part == 0)
            break; /* input exhausted, or the buffer is full */
        if (move) {
            memcpy(bufs[!cur], bufs[cur], len);
            memset(bufs[cur], 0xAA, len); /* stale bytes must not be read */
            cur = !cur;
        }
        memcpy(bufs[cur] + len, data + len, part);
        len += part;
        res.rc = nl_http_parse(&p, bufs[cur], len, &req);
    }
    if (res.rc == NL_EAGAIN) {
        /* a full buffer always decides */
        CHECK(len < NL_HTTP_MAX_HEAD);
    } else if (res.rc == NL_EPROTO) {
        res.status = p.status;
        CHECK(p.status == 400 || p.status == 414 || p.status == 431 || p.status == 505);
        /* sticky */
        CHECK(nl_http_parse(&p, bufs[cur], len, &req) == NL_EPROTO);
    } else {
        CHECK(res.rc > 0 && (size_t)res.rc <= len);
        res.hash = digest(&req, bufs[cur], len);
        nl_http_request again;
        CHECK(nl_http_parse(&p, bufs[cur], len, &again) == res.rc);
        CHECK(digest(&again, bufs[cur], len) == res.hash);
    }
    return res;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    size_t chunk = data[0] >= 1 && data[0] <= 32 ? data[0] : SIZE_MAX;
    data++;
    size--;
    result whole = run(data, size, SIZE_MAX, 0);
    result split = run(data, size, chunk, 1);
    CHECK(whole.rc == split.rc);
    CHECK(whole.status == split.status);
    CHECK(whole.hash == split.hash);
    return 0;
}
