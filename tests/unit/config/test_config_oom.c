/* Fault injection: fail the Nth allocation of a load for every N. Each load
 * must then fail cleanly with NL_ENOMEM, leave *out NULL and leak nothing;
 * once N is past the last allocation it must succeed. (libyaml allocates
 * with malloc directly; valgrind covers that part.) */
#include <stdlib.h>
#include <string.h>

#include "neolink/alloc.h"
#include "neolink/config.h"
#include "neolink/error.h"
#include "fail_alloc.h"
#include "test.h"



typedef int (*load_fn)(nl_config **out, char *err, size_t len);

static int load_full(nl_config **out, char *err, size_t len)
{
    return nl_config_load_file(out, NL_TEST_DATA "/config/full.yaml", err, len);
}

static int load_bad(nl_config **out, char *err, size_t len)
{
    static const char doc[] = "cameras:\n  - {name: a, address: 'x:0'}\n  - {name: a, address: y,"
                              " keepalive: 1h, permitted_users: [nobody]}\n";
    return nl_config_load_string(out, doc, strlen(doc), NULL, 0, err, len);
}

static void torture(load_fn fn, int final_rc)
{
    char err[4096];
    long base = nl_allocator_live();
    int done = 0;
    long n;
    for (n = 0; !done && n < 100000; n++) {
        nl_fail_alloc_arm(n + 1, true); /* n allocations succeed */
        nl_config *cfg = (nl_config *)(uintptr_t)1;
        int rc = fn(&cfg, err, sizeof err);
        nl_fail_alloc_arm(0, false);
        if (rc == NL_ENOMEM) {
            NL_ASSERT(cfg == NULL);
        } else {
            NL_ASSERT_EQ(rc, final_rc);
            done = 1;
        }
        nl_config_free(&cfg);
        if (nl_allocator_live() != base)
            NL_FAIL("leak after failing allocation %ld: %ld live", n, nl_allocator_live() - base);
        nl_test_checks++;
    }
    NL_ASSERT(done);
    NL_ASSERT(n > 10); /* the loads do allocate through the hook */
}

static void test_oom(void)
{
    setenv("NL_TEST_ADMIN2_PASS", "a", 1);
    setenv("NL_TEST_DOOR_PASS", "d", 1);
    nl_fail_alloc_arm(0, false);
    torture(load_full, 0);
    torture(load_bad, NL_ECONFIG);
    nl_allocator_set(NULL);
}

int main(void)
{
    NL_RUN(test_oom);
    NL_DONE();
}
