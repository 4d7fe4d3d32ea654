/* Value syntaxes: durations, sizes, strict integers, booleans, addresses. */
#include <stdint.h>

#include "config/units.h"
#include "neolink/config.h"
#include "neolink/error.h"
#include "test.h"

#define MS INT64_C(1000000)
#define S  INT64_C(1000000000)

static int64_t dur(const char *s)
{
    int64_t v = -12345;
    int rc = nl_config_parse_duration(s, &v);
    if (rc != 0)
        NL_FAIL("duration '%s' rejected (%d)", s, rc);
    return v;
}

static void test_durations(void)
{
    NL_ASSERT_EQ(dur("2s"), 2 * S);
    NL_ASSERT_EQ(dur("500ms"), 500 * MS);
    NL_ASSERT_EQ(dur("1m"), 60 * S);
    NL_ASSERT_EQ(dur("1h"), 3600 * S);
    NL_ASSERT_EQ(dur("2"), 2 * S); /* bare number = seconds */
    NL_ASSERT_EQ(dur("1.5s"), 1500 * MS);
    NL_ASSERT_EQ(dur("1.5"), 1500 * MS);
    NL_ASSERT_EQ(dur("0.25m"), 15 * S);
    NL_ASSERT_EQ(dur("2.5ms"), 2500000);
    NL_ASSERT_EQ(dur("750us"), 750000);
    NL_ASSERT_EQ(dur("42ns"), 42);
    NL_ASSERT_EQ(dur("0"), 0);
    NL_ASSERT_EQ(dur("0s"), 0);
    NL_ASSERT_EQ(dur("007s"), 7 * S);
    /* Digits below the unit's resolution are dropped, not rounded. */
    NL_ASSERT_EQ(dur("1.0000000019s"), S + 1);
    /* The largest value that fits: 9223372036854775807 ns. */
    NL_ASSERT_EQ(dur("9223372036854775807ns"), INT64_MAX);
    NL_ASSERT_EQ(dur("9223372036.854775807s"), INT64_MAX);

    int64_t v = 77;
    const char *bad[] = {"",    "s",   "-1s",   "+1s", " 1s",  "1s ",  "1 s", "1S", "1sec",
                         "1.s", ".5s", "1..5s", "1e3", "0x10", "1,5s", "ms",  "1d", "1.5.5"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        if (nl_config_parse_duration(bad[i], &v) != NL_EINVAL)
            NL_FAIL("duration '%s' accepted", bad[i]);
        NL_ASSERT_EQ(v, 77); /* untouched on failure */
    }
    NL_ASSERT_EQ(nl_config_parse_duration("9223372037s", &v), NL_ERANGE);
    NL_ASSERT_EQ(nl_config_parse_duration("9223372036854775808ns", &v), NL_ERANGE);
    NL_ASSERT_EQ(nl_config_parse_duration("2562048h", &v), NL_ERANGE);
    NL_ASSERT_EQ(nl_config_parse_duration("99999999999999999999999s", &v), NL_ERANGE);
    NL_ASSERT_EQ(nl_config_parse_duration("9223372036.854775808s", &v), NL_ERANGE);
    NL_ASSERT_EQ(nl_config_parse_duration(NULL, &v), NL_EINVAL);
    NL_ASSERT_EQ(v, 77);
}

static void test_sizes(void)
{
    int64_t v = 0;
    NL_ASSERT_OK(nl_config_parse_size("1M", &v));
    NL_ASSERT_EQ(v, 1000000);
    NL_ASSERT_OK(nl_config_parse_size("800k", &v));
    NL_ASSERT_EQ(v, 800000);
    NL_ASSERT_OK(nl_config_parse_size("800K", &v));
    NL_ASSERT_EQ(v, 800000);
    NL_ASSERT_OK(nl_config_parse_size("2000000", &v));
    NL_ASSERT_EQ(v, 2000000);
    NL_ASSERT_OK(nl_config_parse_size("1.5M", &v));
    NL_ASSERT_EQ(v, 1500000);
    NL_ASSERT_OK(nl_config_parse_size("2G", &v));
    NL_ASSERT_EQ(v, INT64_C(2000000000));
    NL_ASSERT_OK(nl_config_parse_size("9223372036854775807", &v));
    NL_ASSERT_EQ(v, INT64_MAX);
    const char *bad[] = {"", "M", "-1M", "1m", "1 M", "1MB", "1Mbit", "0x10", "1e6", "k1"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        if (nl_config_parse_size(bad[i], &v) != NL_EINVAL)
            NL_FAIL("size '%s' accepted", bad[i]);
    NL_ASSERT_EQ(nl_config_parse_size("9223372036854775808", &v), NL_ERANGE);
    NL_ASSERT_EQ(nl_config_parse_size("9223372037G", &v), NL_ERANGE);
}

static void test_ints_and_bools(void)
{
    int64_t v = 0;
    NL_ASSERT_OK(nl__cfg_parse_int("8554", &v));
    NL_ASSERT_EQ(v, 8554);
    NL_ASSERT_OK(nl__cfg_parse_int("-5", &v));
    NL_ASSERT_EQ(v, -5);
    NL_ASSERT_OK(nl__cfg_parse_int("-9223372036854775808", &v));
    NL_ASSERT_EQ(v, INT64_MIN);
    NL_ASSERT_EQ(nl__cfg_parse_int("9223372036854775808", &v), NL_ERANGE);
    /* libcyaml alone would take these as 16, 1 and 1: they are typos here. */
    NL_ASSERT_EQ(nl__cfg_parse_int("0x10", &v), NL_EINVAL);
    NL_ASSERT_EQ(nl__cfg_parse_int("1.5", &v), NL_EINVAL);
    NL_ASSERT_EQ(nl__cfg_parse_int("1_000", &v), NL_EINVAL);
    NL_ASSERT_EQ(nl__cfg_parse_int("+3", &v), NL_EINVAL);
    NL_ASSERT_EQ(nl__cfg_parse_int("", &v), NL_EINVAL);
    NL_ASSERT_EQ(nl__cfg_parse_int("-", &v), NL_EINVAL);

    int b = -1;
    const char *yes[] = {"true", "True", "TRUE", "yes", "on", "On"};
    const char *no[] = {"false", "False", "no", "NO", "off"};
    for (size_t i = 0; i < 6; i++) {
        NL_ASSERT_OK(nl__cfg_parse_bool(yes[i], &b));
        NL_ASSERT_EQ(b, 1);
    }
    for (size_t i = 0; i < 5; i++) {
        NL_ASSERT_OK(nl__cfg_parse_bool(no[i], &b));
        NL_ASSERT_EQ(b, 0);
    }
    NL_ASSERT_EQ(nl__cfg_parse_bool("maybe", &b), NL_EINVAL);
    NL_ASSERT_EQ(nl__cfg_parse_bool("1", &b), NL_EINVAL);
    NL_ASSERT_EQ(nl__cfg_parse_bool("", &b), NL_EINVAL);
}

static void hostport_ok(const char *text, const char *host, unsigned port)
{
    char h[NL_CFG_HOST_MAX + 1];
    uint16_t p = 0;
    const char *why = "unset";
    int rc = nl__cfg_parse_hostport(text, 9000, h, sizeof h, &p, &why);
    if (rc != 0)
        NL_FAIL("'%s' rejected: %s", text, why);
    NL_ASSERT_STREQ(h, host);
    NL_ASSERT_EQ(p, port);
    NL_ASSERT(why == NULL);
}

static void hostport_bad(const char *text, const char *why_expected)
{
    char h[NL_CFG_HOST_MAX + 1];
    uint16_t p = 0;
    const char *why = NULL;
    if (nl__cfg_parse_hostport(text, 9000, h, sizeof h, &p, &why) != NL_EINVAL)
        NL_FAIL("'%s' accepted", text);
    NL_ASSERT_STREQ(why, why_expected);
}

static void test_addresses(void)
{
    hostport_ok("192.168.1.10:9000", "192.168.1.10", 9000);
    hostport_ok("192.168.1.10", "192.168.1.10", 9000);
    hostport_ok("camera.local:1", "camera.local", 1);
    hostport_ok("cam_1-a", "cam_1-a", 9000);
    hostport_ok("[::1]:9000", "::1", 9000);
    hostport_ok("[::1]", "::1", 9000);
    hostport_ok("[fe80::1%eth0]:65535", "fe80::1%eth0", 65535);
    hostport_ok("[2001:db8::10]:9001", "2001:db8::10", 9001);

    const char *generic = "expected HOST[:PORT]";
    hostport_bad("", generic);
    hostport_bad(":9000", generic);
    hostport_bad("bad host", generic);
    hostport_bad("-host", generic);
    hostport_bad("host/x", generic);
    hostport_bad("[::1", generic);
    hostport_bad("[not-v6]:9000", generic);
    hostport_bad("[::1]x", generic);
    hostport_bad("[::1]9000", generic);
    hostport_bad("host:0", "expected HOST[:PORT] (port 1-65535)");
    hostport_bad("host:65536", "expected HOST[:PORT] (port 1-65535)");
    hostport_bad("host:", "expected HOST[:PORT] (port 1-65535)");
    hostport_bad("host:-1", "expected HOST[:PORT] (port 1-65535)");
    hostport_bad("host:90x", "expected HOST[:PORT] (port 1-65535)");
    hostport_bad("::1", "expected HOST[:PORT] (write IPv6 addresses as [ADDR]:PORT)");
    hostport_bad("fe80::1:9000", "expected HOST[:PORT] (write IPv6 addresses as [ADDR]:PORT)");

    /* A port is required when there is no default. */
    char h[64];
    uint16_t p;
    const char *why;
    NL_ASSERT_EQ(nl__cfg_parse_hostport("host", 0, h, sizeof h, &p, &why), NL_EINVAL);
    NL_ASSERT_STREQ(why, "expected HOST:PORT");
    /* Too long for the caller's buffer. */
    NL_ASSERT_EQ(nl__cfg_parse_hostport("abcdefgh:1", 9000, h, 8, &p, &why), NL_EINVAL);

    NL_ASSERT_OK(nl__cfg_parse_host("0.0.0.0", h, sizeof h, &why));
    NL_ASSERT_STREQ(h, "0.0.0.0");
    NL_ASSERT_OK(nl__cfg_parse_host("::", h, sizeof h, &why));
    NL_ASSERT_STREQ(h, "::");
    NL_ASSERT_OK(nl__cfg_parse_host("[::1]", h, sizeof h, &why));
    NL_ASSERT_STREQ(h, "::1");
    NL_ASSERT_OK(nl__cfg_parse_host("localhost", h, sizeof h, &why));
    NL_ASSERT_STREQ(h, "localhost");
    NL_ASSERT_EQ(nl__cfg_parse_host("0.0.0.0:8554", h, sizeof h, &why), NL_EINVAL);
    NL_ASSERT_STREQ(why, "expected an IP address or host name (without a port)");
    NL_ASSERT_EQ(nl__cfg_parse_host("", h, sizeof h, &why), NL_EINVAL);
    NL_ASSERT_EQ(nl__cfg_parse_host("[::1]:1", h, sizeof h, &why), NL_EINVAL);
}

int main(void)
{
    NL_RUN(test_durations);
    NL_RUN(test_sizes);
    NL_RUN(test_ints_and_bools);
    NL_RUN(test_addresses);
    NL_DONE();
}
