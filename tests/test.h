/* Tiny assertion helpers for unit tests: each failure prints file, line and
 * both values, then exits non-zero so ctest reports it. No framework needed. */
#ifndef NL_TEST_H
#define NL_TEST_H

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int nl_test_checks;

#define NL_FAIL(...)                                                             \
    do {                                                                         \
        fprintf(stderr, "%s:%d: FAIL: ", __FILE__, __LINE__);                    \
        fprintf(stderr, __VA_ARGS__);                                            \
        fputc('\n', stderr);                                                     \
        exit(1);                                                                 \
    } while (0)

#define NL_ASSERT(cond)                                                          \
    do {                                                                         \
        nl_test_checks++;                                                        \
        if (!(cond))                                                             \
            NL_FAIL("%s", #cond);                                                \
    } while (0)

#define NL_ASSERT_EQ(a, b)                                                       \
    do {                                                                         \
        nl_test_checks++;                                                        \
        long long va_ = (long long)(a), vb_ = (long long)(b);                    \
        if (va_ != vb_)                                                          \
            NL_FAIL("%s == %s (%lld != %lld)", #a, #b, va_, vb_);                \
    } while (0)

#define NL_ASSERT_UEQ(a, b)                                                      \
    do {                                                                         \
        nl_test_checks++;                                                        \
        unsigned long long va_ = (unsigned long long)(a), vb_ = (unsigned long long)(b); \
        if (va_ != vb_)                                                          \
            NL_FAIL("%s == %s (%llu != %llu)", #a, #b, va_, vb_);                \
    } while (0)

#define NL_ASSERT_STREQ(a, b)                                                    \
    do {                                                                         \
        nl_test_checks++;                                                        \
        const char *sa_ = (a), *sb_ = (b);                                       \
        if (!sa_ || !sb_ || strcmp(sa_, sb_) != 0)                               \
            NL_FAIL("%s == %s (\"%s\" != \"%s\")", #a, #b, sa_ ? sa_ : "(null)", \
                    sb_ ? sb_ : "(null)");                                       \
    } while (0)

#define NL_ASSERT_MEMEQ(a, b, n)                                                 \
    do {                                                                         \
        nl_test_checks++;                                                        \
        if (memcmp((a), (b), (n)) != 0)                                          \
            NL_FAIL("memcmp(%s, %s, %zu) != 0", #a, #b, (size_t)(n));            \
    } while (0)

/* Check a call returned >= 0, printing the library's message otherwise. */
#define NL_ASSERT_OK(expr)                                                       \
    do {                                                                         \
        nl_test_checks++;                                                        \
        int rc_ = (expr);                                                        \
        if (rc_ < 0)                                                             \
            NL_FAIL("%s returned %d (%s)", #expr, rc_, nl_strerror(rc_));        \
    } while (0)

/* Runs one test function and reports it. */
#define NL_RUN(fn)                                                               \
    do {                                                                         \
        fn();                                                                    \
        printf("ok %s\n", #fn);                                                  \
    } while (0)

#define NL_DONE()                                                                \
    do {                                                                         \
        printf("%d checks passed\n", nl_test_checks);                            \
        return 0;                                                                \
    } while (0)

/* Reads a whole file (test vectors) into a malloc'd buffer; exits on error. */
static inline unsigned char *nl_test_read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        NL_FAIL("cannot open %s", path);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    unsigned char *buf = malloc(n > 0 ? (size_t)n : 1);
    if (!buf || fread(buf, 1, (size_t)n, f) != (size_t)n)
        NL_FAIL("cannot read %s", path);
    fclose(f);
    *len = (size_t)n;
    return buf;
}

#endif
