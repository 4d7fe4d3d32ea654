/* The Prometheus text builder: exact output for a realistic exposition,
 * HELP/TYPE once per family, the grouping rule, label and help escaping,
 * float formatting (round trip, specials, decimal point whatever the
 * locale), the output cap, and the product family table itself. */
#include <locale.h>
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/dbuf.h"
#include "neolink/error.h"
#include "server/metrics.h"
#include "test.h"

static nl_dbuf out;

static const char *text(void)
{
    nl_dbuf_append(&out, "", 1); /* terminate for comparison */
    out.len--;
    return (const char *)out.data;
}

static void test_exposition(void)
{
    nl_dbuf_init(&out, 1 << 16);
    nl_prom p;
    nl_prom_init(&p, &out);
    const char *yard_main[] = {"yard", "main"};
    const char *yard_sub[] = {"yard", "sub"};
    NL_ASSERT_OK(nl_prom_gauge(&p, nl_metric(NL_M_CAMERA_STATE), (const char *[]){"yard"}, 3));
    NL_ASSERT_OK(nl_prom_gauge(&p, nl_metric(NL_M_CAMERA_STATE), (const char *[]){"door"}, 4));
    NL_ASSERT_OK(nl_prom_counter(&p, nl_metric(NL_M_CAMERA_FRAMES), yard_main, 90125));
    NL_ASSERT_OK(nl_prom_counter(&p, nl_metric(NL_M_CAMERA_FRAMES), yard_sub, 0));
    NL_ASSERT_OK(nl_prom_gauge(&p, nl_metric(NL_M_CAMERA_LAST_FRAME_AGE), yard_main, 0.04));
    NL_ASSERT_OK(nl_prom_begin_family(&p, nl_metric(NL_M_ABANDONED_WORKERS)));
    NL_ASSERT_OK(
        nl_prom_gauge(&p, nl_metric(NL_M_TEARDOWN_SECONDS), (const char *[]){"last"}, 0.125));
    NL_ASSERT_OK(nl_prom_gauge(&p, nl_metric(NL_M_TEARDOWN_SECONDS), (const char *[]){"max"}, 1.5));
    NL_ASSERT_OK(nl_prom_gauge(&p, nl_metric(NL_M_RTSP_CLIENTS), NULL, 7));
    NL_ASSERT_EQ(nl_prom_finish(&p), 0);
    NL_ASSERT_STREQ(
        text(),
        "# HELP neolink_camera_state Camera connection state: 0 stopped, 1 connecting, "
        "2 connected, 3 streaming, 4 waiting to reconnect.\n"
        "# TYPE neolink_camera_state gauge\n"
        "neolink_camera_state{camera=\"yard\"} 3\n"
        "neolink_camera_state{camera=\"door\"} 4\n"
        "# HELP neolink_camera_frames_total Media frames received from the camera.\n"
        "# TYPE neolink_camera_frames_total counter\n"
        "neolink_camera_frames_total{camera=\"yard\",stream=\"main\"} 90125\n"
        "neolink_camera_frames_total{camera=\"yard\",stream=\"sub\"} 0\n"
        "# HELP neolink_camera_last_frame_age_seconds Seconds since the stream's last frame "
        "arrived.\n"
        "# TYPE neolink_camera_last_frame_age_seconds gauge\n"
        "neolink_camera_last_frame_age_seconds{camera=\"yard\",stream=\"main\"} 0.04\n"
        "# HELP neolink_abandoned_workers_total Worker threads that missed their stop "
        "deadline.\n"
        "# TYPE neolink_abandoned_workers_total counter\n"
        "# HELP neolink_teardown_seconds Duration of session teardowns: the last one and the "
        "longest.\n"
        "# TYPE neolink_teardown_seconds gauge\n"
        "neolink_teardown_seconds{stat=\"last\"} 0.125\n"
        "neolink_teardown_seconds{stat=\"max\"} 1.5\n"
        "# HELP neolink_rtsp_clients RTSP client connections currently open.\n"
        "# TYPE neolink_rtsp_clients gauge\n"
        "neolink_rtsp_clients 7\n");
    nl_dbuf_free(&out);
}

static void test_group_rule(void)
{
    nl_dbuf_init(&out, 4096);
    nl_prom p;
    nl_prom_init(&p, &out);
    NL_ASSERT_OK(nl_prom_gauge(&p, nl_metric(NL_M_RTSP_CLIENTS), NULL, 1));
    NL_ASSERT_OK(nl_prom_gauge(&p, nl_metric(NL_M_CAMERA_STREAMS_ACTIVE), NULL, 2));
    size_t len = out.len;
    NL_ASSERT_EQ(nl_prom_gauge(&p, nl_metric(NL_M_RTSP_CLIENTS), NULL, 3), NL_ESTATE);
    NL_ASSERT_EQ(nl_prom_gauge(&p, nl_metric(NL_M_VIEWERS), (const char *[]){"a", "b"}, 1),
                 NL_ESTATE);
    NL_ASSERT_EQ(nl_prom_finish(&p), NL_ESTATE);
    NL_ASSERT_UEQ(out.len, len); /* nothing written after the error */

    /* labelled family without label values */
    nl_dbuf_reset(&out);
    nl_prom_init(&p, &out);
    NL_ASSERT_EQ(nl_prom_gauge(&p, nl_metric(NL_M_VIEWERS), NULL, 1), NL_EINVAL);

    /* invalid family name */
    static const nl_prom_family bad = {"9lives", NL_PROM_GAUGE, "x", {NULL}};
    nl_prom_init(&p, &out);
    NL_ASSERT_EQ(nl_prom_gauge(&p, &bad, NULL, 1), NL_EINVAL);

    /* more families than the once-per-family table holds */
    static nl_prom_family many[NL_PROM_MAX_FAMILIES + 1];
    static char names[NL_PROM_MAX_FAMILIES + 1][16];
    nl_dbuf_free(&out);
    nl_dbuf_init(&out, 1 << 20);
    nl_prom_init(&p, &out);
    for (int i = 0; i <= NL_PROM_MAX_FAMILIES; i++) {
        snprintf(names[i], sizeof names[i], "m_%d", i);
        many[i] = (nl_prom_family){names[i], NL_PROM_COUNTER, "h", {NULL}};
        int rc = nl_prom_counter(&p, &many[i], NULL, (uint64_t)i);
        NL_ASSERT_EQ(rc, i < NL_PROM_MAX_FAMILIES ? 0 : NL_ELIMIT);
    }
    nl_dbuf_free(&out);
}

static void test_escaping(void)
{
    nl_dbuf_init(&out, 4096);
    nl_prom p;
    nl_prom_init(&p, &out);
    static const nl_prom_family fam = {"t_escape",
                                       NL_PROM_GAUGE,
                                       "Help with \\ backslash,\nnewline and \"quotes\".",
                                       {"name", "other", NULL}};
    NL_ASSERT_OK(nl_prom_gauge(&p, &fam, (const char *[]){"a\\b\"c\nd", ""}, -2.5));
    NL_ASSERT_OK(nl_prom_gauge(&p, &fam, (const char *[]){"caf\xc3\xa9 \xe2\x98\x83", NULL}, 0));
    NL_ASSERT_STREQ(text(), "# HELP t_escape Help with \\\\ backslash,\\nnewline and \"quotes\".\n"
                            "# TYPE t_escape gauge\n"
                            "t_escape{name=\"a\\\\b\\\"c\\nd\",other=\"\"} -2.5\n"
                            "t_escape{name=\"caf\xc3\xa9 \xe2\x98\x83\",other=\"\"} 0\n");
    nl_dbuf_reset(&out);
    NL_ASSERT_OK(nl_prom_escape_label(&out, "\"\"\\\n"));
    NL_ASSERT_STREQ(text(), "\\\"\\\"\\\\\\n");
    nl_dbuf_free(&out);
}

static const char *fmt(double v)
{
    static char b[64];
    size_t n = nl_prom_format_double(b, sizeof b, v);
    NL_ASSERT_EQ(n, strlen(b));
    return b;
}

static void test_numbers(void)
{
    NL_ASSERT_STREQ(fmt(0), "0");
    NL_ASSERT_STREQ(fmt(-0.0), "-0");
    NL_ASSERT_STREQ(fmt(1), "1");
    NL_ASSERT_STREQ(fmt(42), "42");
    NL_ASSERT_STREQ(fmt(0.1), "0.1");
    NL_ASSERT_STREQ(fmt(-2.5), "-2.5");
    NL_ASSERT_STREQ(fmt(0.1 + 0.2), "0.30000000000000004");
    NL_ASSERT_STREQ(fmt(1.0 / 3), "0.3333333333333333");
    NL_ASSERT_STREQ(fmt(1.5e-7), "1.5e-07");
    NL_ASSERT_STREQ(fmt(1e21), "1e+21");
    NL_ASSERT_STREQ(fmt(123456789012345.0), "123456789012345");
    NL_ASSERT_STREQ(fmt(9007199254740993.0), "9007199254740992"); /* 2^53 + 1 rounds */
    NL_ASSERT_STREQ(fmt(NAN), "NaN");
    NL_ASSERT_STREQ(fmt(INFINITY), "+Inf");
    NL_ASSERT_STREQ(fmt(-INFINITY), "-Inf");
    /* every value reads back exactly */
    double vals[] = {5e-324,    2.2250738585072014e-308, 1.7976931348623157e308, 0.04, 61.2,
                     1234.5678, 3.141592653589793};
    for (size_t i = 0; i < sizeof vals / sizeof vals[0]; i++)
        NL_ASSERT(strtod(fmt(vals[i]), NULL) == vals[i]);
    /* a short buffer is cut, terminated */
    char tiny[4];
    NL_ASSERT_EQ(nl_prom_format_double(tiny, sizeof tiny, 0.125), 3);
    NL_ASSERT_STREQ(tiny, "0.1");

    /* counters are exact integers beyond 2^53 */
    nl_dbuf_init(&out, 4096);
    nl_prom p;
    nl_prom_init(&p, &out);
    NL_ASSERT_OK(nl_prom_counter(&p, nl_metric(NL_M_ABANDONED_WORKERS), NULL, UINT64_MAX));
    NL_ASSERT(strstr(text(), "\nneolink_abandoned_workers_total 18446744073709551615\n"));
    nl_dbuf_free(&out);
}

/* With a comma-decimal locale the output still uses '.'. Only runs where
 * such a locale is installed (Debian images usually have only C). */
static void test_locale(void)
{
    const char *names[] = {"de_DE.UTF-8", "de_DE.utf8", "fr_FR.UTF-8", "ru_RU.UTF-8", NULL};
    const char *got = NULL;
    for (int i = 0; names[i] && !got; i++)
        got = setlocale(LC_NUMERIC, names[i]);
    if (!got) {
        printf("  (no comma-decimal locale installed; locale case not exercised)\n");
        return;
    }
    NL_ASSERT_STREQ(fmt(0.5), "0.5");
    NL_ASSERT_STREQ(fmt(-1234.25), "-1234.25");
    NL_ASSERT_STREQ(fmt(0.1 + 0.2), "0.30000000000000004");
    setlocale(LC_NUMERIC, "C");
}

static void test_output_cap(void)
{
    nl_dbuf_init(&out, 100);
    nl_prom p;
    nl_prom_init(&p, &out);
    int rc = 0;
    for (int i = 0; i < 10 && rc == 0; i++)
        rc = nl_prom_gauge(&p, nl_metric(NL_M_RTSP_CLIENTS), NULL, i);
    NL_ASSERT_EQ(rc, NL_ETOOBIG);
    NL_ASSERT_EQ(nl_prom_finish(&p), NL_ETOOBIG);
    NL_ASSERT(out.len <= 100);
    nl_dbuf_free(&out);
}

static void test_family_table(void)
{
    static const char *const expected[NL_M__COUNT] = {
        "neolink_camera_state",
        "neolink_camera_reconnects_total",
        "neolink_camera_frames_total",
        "neolink_camera_bytes_total",
        "neolink_camera_last_frame_age_seconds",
        "neolink_viewers",
        "neolink_dropped_frames_total",
        "neolink_queue_peak_bytes",
        "neolink_arena_bytes",
        "neolink_teardown_seconds",
        "neolink_watchdog_heartbeat_age_seconds",
        "neolink_abandoned_workers_total",
        "neolink_camera_streams_active",
        "neolink_rtsp_clients",
    };
    for (int i = 0; i < NL_M__COUNT; i++) {
        const nl_prom_family *f = nl_metric((nl_metric_id)i);
        NL_ASSERT(f != NULL);
        NL_ASSERT_STREQ(f->name, expected[i]);
        NL_ASSERT(nl_prom_valid_name(f->name, 0));
        NL_ASSERT(f->help && strlen(f->help) > 10);
        /* counters, and only counters, end in _total */
        size_t n = strlen(f->name);
        bool total = n > 6 && !strcmp(f->name + n - 6, "_total");
        NL_ASSERT_EQ(total, f->type == NL_PROM_COUNTER);
        for (int l = 0; f->labels[l]; l++)
            NL_ASSERT(nl_prom_valid_name(f->labels[l], 1));
    }
    NL_ASSERT(nl_metric(NL_M__COUNT) == NULL);
    NL_ASSERT(nl_metric((nl_metric_id)-1) == NULL);
    NL_ASSERT_STREQ(nl_metric(NL_M_VIEWERS)->labels[1], "stream");
    NL_ASSERT(nl_metric(NL_M_ARENA_BYTES)->labels[1] == NULL);

    NL_ASSERT(nl_prom_valid_name("a:b_c9", 0));
    NL_ASSERT(!nl_prom_valid_name("a:b", 1));
    NL_ASSERT(!nl_prom_valid_name("__reserved", 1));
    NL_ASSERT(!nl_prom_valid_name("9a", 0));
    NL_ASSERT(!nl_prom_valid_name("a-b", 0));
    NL_ASSERT(!nl_prom_valid_name("", 0));
}

int main(void)
{
    NL_RUN(test_exposition);
    NL_RUN(test_group_rule);
    NL_RUN(test_escaping);
    NL_RUN(test_numbers);
    NL_RUN(test_locale);
    NL_RUN(test_output_cap);
    NL_RUN(test_family_table);
    NL_DONE();
}
