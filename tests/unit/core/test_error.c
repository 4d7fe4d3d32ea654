/* The error table: every code has its own name and message, errno values map
 * onto the negative space, and unknown codes get a safe fallback. */
#include <errno.h>
#include <string.h>

#include "neolink/error.h"
#include "test.h"

typedef struct row {
    int code;
    const char *name;
    const char *msg;
} row;

static const row table[] = {
#define NL_XX_ERRNO(n, e, m) {NL_##n, "NL_" #n, m},
    NL_ERRNO_MAP(NL_XX_ERRNO)
#undef NL_XX_ERRNO
#define NL_XX_LIB(n, v, m) {NL_##n, "NL_" #n, m},
    NL_LIBERR_MAP(NL_XX_LIB)
#undef NL_XX_LIB
};
#define NROWS (sizeof table / sizeof table[0])

static void test_every_code_distinct(void)
{
    NL_ASSERT(NROWS >= 40);
    for (size_t i = 0; i < NROWS; i++) {
        NL_ASSERT(table[i].code < 0);
        NL_ASSERT_STREQ(nl_err_name(table[i].code), table[i].name);
        NL_ASSERT_STREQ(nl_strerror(table[i].code), table[i].msg);
        NL_ASSERT(strlen(table[i].msg) > 0);
        for (size_t j = i + 1; j < NROWS; j++) {
            NL_ASSERT(table[i].code != table[j].code);
            NL_ASSERT(strcmp(table[i].name, table[j].name) != 0);
            NL_ASSERT(strcmp(table[i].msg, table[j].msg) != 0);
        }
    }
}

static void test_known_values(void)
{
    NL_ASSERT_EQ(NL_ETIMEDOUT, -ETIMEDOUT);
    NL_ASSERT_EQ(NL_ENOMEM, -ENOMEM);
    NL_ASSERT_EQ(NL_EARENA, -1000);
    NL_ASSERT_EQ(NL_EPROTO, -1001);
    NL_ASSERT_EQ(NL_EEOF, -1015);
    NL_ASSERT_STREQ(nl_strerror(NL_ETIMEDOUT), "timed out");
    NL_ASSERT_STREQ(nl_err_name(NL_ETIMEDOUT), "NL_ETIMEDOUT");
    NL_ASSERT_STREQ(nl_strerror(NL_EAUTH), "camera rejected the credentials");
    NL_ASSERT_STREQ(nl_err_name(NL_EXML), "NL_EXML");
    NL_ASSERT_STREQ(nl_strerror(0), "success");
    NL_ASSERT_STREQ(nl_err_name(0), "NL_OK");
}

static void test_errno_mapping(void)
{
    NL_ASSERT_EQ(nl_err_from_errno(ETIMEDOUT), NL_ETIMEDOUT);
    NL_ASSERT_EQ(nl_err_from_errno(ECONNREFUSED), NL_ECONNREFUSED);
    NL_ASSERT_EQ(nl_err_from_errno(EPIPE), NL_EPIPE);
    NL_ASSERT_EQ(NL_ERR_FROM_ERRNO(EAGAIN), NL_EAGAIN);
    /* errno 0 or garbage must still be an error, never success */
    NL_ASSERT_EQ(nl_err_from_errno(0), NL_EIO);
    NL_ASSERT_EQ(nl_err_from_errno(-5), NL_EIO);
    /* every errno-backed code stays clear of the library range */
    for (size_t i = 0; i < NROWS; i++) {
        if (strcmp(table[i].name, "NL_EARENA") == 0)
            break;
        NL_ASSERT(table[i].code > -1000);
    }
}

static void test_unknown_codes(void)
{
    NL_ASSERT_STREQ(nl_err_name(-999999), "NL_UNKNOWN");
    NL_ASSERT_STREQ(nl_strerror(-999999), "unknown error");
    NL_ASSERT_STREQ(nl_err_name(-1999), "NL_UNKNOWN");
    NL_ASSERT_STREQ(nl_strerror(12345), "unknown error");
    NL_ASSERT_STREQ(nl_err_name(7), "NL_UNKNOWN");
    /* an errno without its own row falls back to the C library's text */
    NL_ASSERT_STREQ(nl_err_name(-EDOM), "NL_UNKNOWN");
    NL_ASSERT_STREQ(nl_strerror(-EDOM), strerror(EDOM));
}

int main(void)
{
    NL_RUN(test_every_code_distinct);
    NL_RUN(test_known_values);
    NL_RUN(test_errno_mapping);
    NL_RUN(test_unknown_codes);
    NL_DONE();
}
