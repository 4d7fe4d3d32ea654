/* The TOML reader (lib/config/toml.c): every value kind with the exact
 * value and line it yields, the table rules of TOML 1.0, every error with
 * its line and message, the caps, and allocation failure. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "config/toml.h"
#include "neolink/arena.h"
#include "neolink/error.h"
#include "test.h"

static nl_arena *arena;
static nl__toml_error err;

static const nl__toml_value *parse(const char *doc)
{
    nl_arena_destroy(&arena);
    NL_ASSERT_OK(nl_arena_create(&arena, NULL, 64u << 20, "test"));
    nl__toml_value *root = NULL;
    int rc = nl__toml_parse(arena, doc, strlen(doc), &root, &err);
    if (rc != 0)
        NL_FAIL("parse failed: %d: %s (line %d)", rc, err.msg, err.line);
    NL_ASSERT(root && root->type == NL_TOML_TABLE);
    return root;
}

/* Parsing must fail with NL_ECONFIG on `line` with a message containing `msg`. */
static void expect_error(const char *doc, int line, const char *msg)
{
    nl_arena_destroy(&arena);
    NL_ASSERT_OK(nl_arena_create(&arena, NULL, 64u << 20, "test"));
    nl__toml_value *root = (nl__toml_value *)1;
    int rc = nl__toml_parse(arena, doc, strlen(doc), &root, &err);
    if (rc != NL_ECONFIG || root != NULL || err.line != line || !strstr(err.msg, msg))
        NL_FAIL("doc \"%s\": rc %d line %d msg \"%s\"; expected line %d \"%s\"", doc, rc, err.line,
                err.msg, line, msg);
    nl_test_checks++;
}

/* Follows a dotted path of table keys from t. */
static const nl__toml_value *at(const nl__toml_value *t, const char *path)
{
    char buf[256];
    snprintf(buf, sizeof buf, "%s", path);
    for (char *save = NULL, *k = strtok_r(buf, ".", &save); k; k = strtok_r(NULL, ".", &save)) {
        t = nl__toml_get(t, k);
        if (!t)
            NL_FAIL("no key %s (in %s)", k, path);
    }
    return t;
}

static const nl__toml_value *item(const nl__toml_value *arr, size_t i)
{
    NL_ASSERT(arr->type == NL_TOML_ARRAY);
    const nl__toml_value *v = arr->u.kids.first;
    while (v && i--)
        v = v->next;
    NL_ASSERT(v != NULL);
    return v;
}

static void expect_str(const nl__toml_value *t, const char *path, const char *want, int line)
{
    const nl__toml_value *v = at(t, path);
    NL_ASSERT_EQ(v->type, NL_TOML_STRING);
    NL_ASSERT_STREQ(v->u.str, want);
    NL_ASSERT_EQ(v->line, line);
}

static void expect_int(const nl__toml_value *t, const char *path, int64_t want)
{
    const nl__toml_value *v = at(t, path);
    NL_ASSERT_EQ(v->type, NL_TOML_INT);
    NL_ASSERT_EQ(v->u.i, want);
}

static void expect_float(const nl__toml_value *t, const char *path, double want)
{
    const nl__toml_value *v = at(t, path);
    NL_ASSERT_EQ(v->type, NL_TOML_FLOAT);
    if (v->u.f != want)
        NL_FAIL("%s: %.17g != %.17g", path, v->u.f, want);
}

static void test_neolink_shape(void)
{
    const nl__toml_value *r = parse("# comment\n"
                                    "bind = \"0.0.0.0\" # trailing comment\n"
                                    "bind_port = 8554\n"
                                    "\n"
                                    "[[users]]\n"
                                    "name = \"me\"\n"
                                    "[[cameras]]\n"
                                    "name = \"a\"\n"
                                    "permitted_users = [ \"me\",\n"
                                    "  \"you\", # second\n"
                                    "]\n"
                                    "[cameras.pause]\n"
                                    "on_client = true\n"
                                    "[[cameras]]\n"
                                    "name = \"b\"\n"
                                    "mqtt.port = 1883\n"
                                    "mqtt.broker_addr = \"x\"\n");
    expect_str(r, "bind", "0.0.0.0", 2);
    expect_int(r, "bind_port", 8554);
    NL_ASSERT_EQ(r->u.kids.count, 4);
    const nl__toml_value *users = at(r, "users");
    NL_ASSERT_EQ(users->type, NL_TOML_ARRAY);
    NL_ASSERT_EQ(users->u.kids.count, 1);
    NL_ASSERT_EQ(item(users, 0)->line, 5);
    expect_str(item(users, 0), "name", "me", 6);
    const nl__toml_value *cams = at(r, "cameras");
    NL_ASSERT_EQ(cams->u.kids.count, 2);
    const nl__toml_value *c0 = item(cams, 0), *c1 = item(cams, 1);
    NL_ASSERT_EQ(c0->line, 7);
    NL_ASSERT_EQ(c1->line, 14);
    const nl__toml_value *pu = at(c0, "permitted_users");
    NL_ASSERT_EQ(pu->line, 9);
    NL_ASSERT_EQ(pu->u.kids.count, 2);
    NL_ASSERT_STREQ(item(pu, 1)->u.str, "you");
    NL_ASSERT_EQ(item(pu, 1)->line, 10);
    const nl__toml_value *pause = at(c0, "pause");
    NL_ASSERT_EQ(pause->line, 12);
    NL_ASSERT_EQ(at(pause, "on_client")->type, NL_TOML_BOOL);
    NL_ASSERT_EQ(at(pause, "on_client")->u.b, 1);
    NL_ASSERT_EQ(at(pause, "on_client")->line, 13);
    expect_int(c1, "mqtt.port", 1883);
    expect_str(c1, "mqtt.broker_addr", "x", 17);
    NL_ASSERT_EQ(at(c1, "mqtt")->line, 16);
    /* Document order is kept. */
    NL_ASSERT_STREQ(c1->u.kids.first->key, "name");
    NL_ASSERT(nl__toml_get(c1, "nope") == NULL);
    NL_ASSERT(nl__toml_get(at(c1, "name"), "x") == NULL);
}

static void test_strings(void)
{
    const nl__toml_value *r =
        parse("a = \"tab\\there \\\"q\\\" back\\\\slash \\u00e9 \\U0001F600 \\b\\f\\r\\n\"\n"
              "b = 'C:\\path\\no\\escapes'\n"
              "c = \"\"\"\nfirst\nsecond \\\n    third\"\"\"\n"
              "d = '''\nraw \\n\n'''\n"
              "e = \"\"\"two quotes at the end\"\"\"\"\"\n"
              "f = \"\"\n"
              "\"quoted key\" = 1\n"
              "'lit.key' = 2\n"
              "g = \"# not a comment\"\n"
              "h = \"UTF-8 é ✓\"\n");
    expect_str(r, "a", "tab\there \"q\" back\\slash \xc3\xa9 \xf0\x9f\x98\x80 \b\f\r\n", 1);
    expect_str(r, "b", "C:\\path\\no\\escapes", 2);
    expect_str(r, "c", "first\nsecond third", 3);
    expect_str(r, "d", "raw \\n\n", 7);
    expect_str(r, "e", "two quotes at the end\"\"", 10);
    expect_str(r, "f", "", 11);
    const nl__toml_value *q = nl__toml_get(r, "quoted key");
    NL_ASSERT(q && q->u.i == 1 && q->line == 12);
    NL_ASSERT(nl__toml_get(r, "lit.key") && nl__toml_get(r, "lit.key")->u.i == 2);
    expect_str(r, "g", "# not a comment", 14);
    expect_str(r, "h", "UTF-8 \xc3\xa9 \xe2\x9c\x93", 15);
}

static void test_numbers(void)
{
    const nl__toml_value *r = parse("a = 0\nb = -17\nc = +42\nd = 1_000_000\n"
                                    "e = 9223372036854775807\nf = -9223372036854775808\n"
                                    "g = 0xDEAD_beef\nh = 0o755\ni = 0b1101\n"
                                    "j = 1.5\nk = -0.25\nl = 1e3\nm = 6.25E-2\nn = 3_1.4_1\n"
                                    "o = inf\np = -inf\nq = nan\nr = true\ns = false\n"
                                    "t = 0.1\nu = 2.5e+2\n");
    expect_int(r, "a", 0);
    expect_int(r, "b", -17);
    expect_int(r, "c", 42);
    expect_int(r, "d", 1000000);
    expect_int(r, "e", INT64_MAX);
    expect_int(r, "f", INT64_MIN);
    expect_int(r, "g", 0xdeadbeef);
    expect_int(r, "h", 0755);
    expect_int(r, "i", 13);
    expect_float(r, "j", 1.5);
    expect_float(r, "k", -0.25);
    expect_float(r, "l", 1000.0);
    expect_float(r, "m", 0.0625);
    expect_float(r, "n", 31.41);
    expect_float(r, "o", HUGE_VAL);
    expect_float(r, "p", -HUGE_VAL);
    NL_ASSERT(isnan(at(r, "q")->u.f));
    NL_ASSERT(at(r, "r")->type == NL_TOML_BOOL && at(r, "r")->u.b == 1);
    NL_ASSERT(at(r, "s")->type == NL_TOML_BOOL && at(r, "s")->u.b == 0);
    expect_float(r, "t", 0.1);
    expect_float(r, "u", 250.0);
}

static void test_arrays_and_inline(void)
{
    const nl__toml_value *r = parse("a = [[1, 2], [\"x\"], []]\n"
                                    "b = [\n  1,\n  # comment\n  2,\n]\n"
                                    "c = { x = 1, y.z = \"w\", t = { u = true } }\n"
                                    "d = [{ name = \"n1\" }, { name = \"n2\" }]\n"
                                    "e = {}\n");
    const nl__toml_value *a = at(r, "a");
    NL_ASSERT_EQ(a->u.kids.count, 3);
    NL_ASSERT_EQ(item(item(a, 0), 1)->u.i, 2);
    NL_ASSERT_STREQ(item(item(a, 1), 0)->u.str, "x");
    NL_ASSERT_EQ(item(a, 2)->u.kids.count, 0);
    const nl__toml_value *b = at(r, "b");
    NL_ASSERT_EQ(b->u.kids.count, 2);
    NL_ASSERT_EQ(item(b, 1)->line, 5);
    expect_int(r, "c.x", 1);
    expect_str(r, "c.y.z", "w", 7);
    NL_ASSERT_EQ(at(r, "c.t.u")->u.b, 1);
    NL_ASSERT_STREQ(at(item(at(r, "d"), 1), "name")->u.str, "n2");
    NL_ASSERT_EQ(at(r, "e")->type, NL_TOML_TABLE);
    NL_ASSERT_EQ(at(r, "e")->u.kids.count, 0);
    NL_ASSERT_EQ(at(r, "e")->line, 9);
}

static void test_tables(void)
{
    /* Parents made implicitly by a header may get their own header later;
     * sub-tables may be added under dotted-key tables. */
    const nl__toml_value *r = parse("[a.b.c]\nx = 1\n[a]\ny = 2\n"
                                    "[f]\napple.color = \"red\"\n[f.apple.texture]\nsmooth = true\n"
                                    "[[p.q]]\nn = 1\n[[p.q]]\nn = 2\n[p.q.sub]\nm = 3\n"
                                    "[ spaced . \"key\" ]\nk = 0\n");
    expect_int(r, "a.b.c.x", 1);
    expect_int(r, "a.y", 2);
    NL_ASSERT_EQ(at(r, "a")->line, 3);
    expect_str(r, "f.apple.color", "red", 6);
    NL_ASSERT_EQ(at(r, "f.apple.texture.smooth")->u.b, 1);
    const nl__toml_value *q = at(r, "p.q");
    NL_ASSERT_EQ(q->u.kids.count, 2);
    expect_int(item(q, 1), "n", 2);
    expect_int(item(q, 1), "sub.m", 3);
    NL_ASSERT(nl__toml_get(item(q, 0), "sub") == NULL);
    expect_int(r, "spaced.key.k", 0);

    /* CRLF line ends, a byte order mark, no final newline. */
    r = parse("\xef\xbb\xbf"
              "a = 1\r\n[t]\r\nb = \"\"\"x\r\ny\"\"\" # c\r\nc = 3");
    expect_int(r, "a", 1);
    expect_str(r, "t.b", "x\ny", 3);
    expect_int(r, "t.c", 3);
    NL_ASSERT_EQ(at(r, "t.c")->line, 5);

    r = parse("");
    NL_ASSERT_EQ(r->u.kids.count, 0);
    r = parse("\n\n# only comments\n   \n");
    NL_ASSERT_EQ(r->u.kids.count, 0);
}

static void test_errors(void)
{
    expect_error("a = 1\nb\n", 2, "expected '=' after key");
    expect_error("a = 1\nb \"x\"\n", 2, "expected '=' after key");
    expect_error("storage shed = 1\n", 1, "a key with blanks needs quotes");
    expect_error("a = \n", 1, "expected a value");
    expect_error("= 1\n", 1, "expected a key");
    expect_error("a = 1 2\n", 1, "expected the end of the line after the value");
    expect_error("a = 1\na = 2\n", 2, "duplicate key 'a' (first defined on line 1)");
    expect_error("a.b = 1\na.b = 2\n", 2, "duplicate key 'a.b'");
    expect_error("a = 1\na.b = 2\n", 2, "cannot add keys to 'a'");
    expect_error("[t]\nx = 1\n[t]\n", 3, "table [t] is defined twice (first on line 1)");
    expect_error("[t]\nu.v = 1\n[t.u]\n", 3, "table [t.u] is defined twice");
    expect_error("[a.b]\n[a]\nb.c = 1\n", 3, "cannot add keys to 'b'");
    expect_error("a = [1]\n[[a]]\n", 2, "already defined on line 1 as an array");
    expect_error("a = 1\n[a.b]\n", 2, "'a' is already defined on line 1 and is not a table");
    expect_error("[[a]]\n[a]\n", 2, "[a]: 'a' is already defined on line 1 as an array");
    expect_error("a = {x = 1}\na.y = 2\n", 2, "cannot add keys to 'a'");
    expect_error("a = {x = 1}\n[a.b]\n", 2, "cannot add to the inline table 'a'");
    expect_error("a = {x = 1,}\n", 1, "trailing comma in an inline table");
    expect_error("a = {x = 1\n}\n", 1, "must end on the line it starts");
    expect_error("a = {x = 1 y = 2}\n", 1, "expected ',' or '}'");
    expect_error("a = [1 2]\n", 1, "expected ',' or ']' in the array");
    expect_error("a = [1,\n2,\n", 3, "expected a value");
    expect_error("\n\na = \"abc\n", 3, "newline in a single-line string");
    expect_error("a = \"abc", 1, "unterminated string");
    expect_error("a = '''abc\n\n", 1, "unterminated string");
    expect_error("a = \"\\q\"\n", 1, "invalid escape sequence (write a backslash as \\\\");
    expect_error("a = \"\\u12\"\n", 1, "\\u needs 4 hex digits");
    expect_error("a = \"\\uD800\"\n", 1, "not a Unicode scalar value");
    expect_error("a = \"\\u0000\"\n", 1, "NUL characters");
    expect_error("a = \"x\x01y\"\n", 1, "control character in a string");
    expect_error("a = \"\"\"x\n\ty\x7f\"\"\"\n", 2, "control character in a string");
    expect_error("a = 1 # bell\x07\n", 1, "control character in a comment");
    expect_error("a = \"\"\"x\"\"\"\"\"\"\n", 1, "too many quotes");
    expect_error("a = 012\n", 1, "leading zeros");
    expect_error("a = 9223372036854775808\n", 1, "integer out of range");
    expect_error("a = 0x1_0000_0000_0000_0000\n", 1, "integer out of range");
    expect_error("a = 1__0\n", 1, "invalid number");
    expect_error("a = _1\n", 1, "strings need quotes");
    expect_error("a = 1.\n", 1, "a decimal point needs digits");
    expect_error("a = 1e\n", 1, "invalid exponent");
    expect_error("a = 1e999\n", 1, "float out of range");
    expect_error("a = -0x10\n", 1, "cannot have a sign");
    expect_error("a = 1979-05-27\n", 1, "dates and times are not supported");
    expect_error("a = 07:32:00\n", 1, "dates and times are not supported");
    expect_error("a = mainStream\n", 1, "invalid value (strings need quotes)");
    expect_error("a = truex\n", 1, "strings need quotes");
    expect_error("a = @\n", 1, "expected a value (a \"string\", number");
    expect_error("[a\n", 1, "expected ']' after the table name");
    expect_error("[[a]\n", 1, "expected ']]' after the table name");
    expect_error("[a] x\n", 1, "expected the end of the line after a table header");
    expect_error("[]\n", 1, "expected a key");
    expect_error("\"\"\"k\"\"\" = 1\n", 1, "a key cannot be a multi-line string");
    expect_error("a = 1\n\xff = 2\n", 2, "not valid UTF-8");
    expect_error("a = \"\xc0\xaf\"\n", 1, "not valid UTF-8");         /* overlong '/' */
    expect_error("a = \"\xed\xa0\x80\"\n", 1, "not valid UTF-8");     /* surrogate */
    expect_error("a = \"\xf4\x90\x80\x80\"\n", 1, "not valid UTF-8"); /* > U+10FFFF */
    expect_error("a = \"\xe2\x9c\"\n", 1, "not valid UTF-8");         /* cut short */
    expect_error("a = 1\rb = 2\n", 1, "expected the end of the line");
}

static void test_caps(void)
{
    /* Nesting: 16 levels of arrays are fine, 17 are not. */
    char doc[256];
    int n = snprintf(doc, sizeof doc, "a = ");
    for (int i = 0; i < 16; i++)
        doc[n++] = '[';
    for (int i = 0; i < 16; i++)
        doc[n++] = ']';
    doc[n] = '\0';
    parse(doc);
    n = snprintf(doc, sizeof doc, "a = ");
    for (int i = 0; i < 17; i++)
        doc[n++] = '[';
    doc[n] = '\0';
    expect_error(doc, 1, "nested deeper than 16 levels");
    expect_error("a.b.c.d.e.f.g.h.i.j.k.l.m.n.o.p.q = 1\n", 1, "more than 16 dotted parts");

    char key[300];
    memset(key, 'k', 257);
    memcpy(key + 257, " = 1\n", 6);
    expect_error(key, 1, "key longer than 256 bytes");

    /* Array length and keys per table. */
    size_t cap = 5 * (NL_TOML_MAX_ARRAY + 2) + 16;
    char *big = malloc(cap);
    NL_ASSERT(big);
    size_t o = (size_t)snprintf(big, cap, "a = [");
    for (int i = 0; i <= NL_TOML_MAX_ARRAY; i++)
        o += (size_t)snprintf(big + o, cap - o, "1,");
    snprintf(big + o, cap - o, "]\n");
    expect_error(big, 1, "array longer than 4096 elements");
    free(big);

    cap = 16 * (NL_TOML_MAX_TABLE_KEYS + 2);
    big = malloc(cap);
    NL_ASSERT(big);
    o = 0;
    for (int i = 0; i <= NL_TOML_MAX_TABLE_KEYS; i++)
        o += (size_t)snprintf(big + o, cap - o, "k%d = 1\n", i);
    expect_error(big, NL_TOML_MAX_TABLE_KEYS + 1, "too many keys in one table (at most 1024)");
    free(big);

    /* Total values: many small tables, each under the per-table cap. */
    cap = (size_t)NL_TOML_MAX_NODES * 12;
    big = malloc(cap);
    NL_ASSERT(big);
    o = 0;
    int line = 1;
    for (int t = 0; o + 64 < cap; t++) {
        o += (size_t)snprintf(big + o, cap - o, "[t%d]\n", t);
        line++;
        for (int k = 0; k < 1000 && o + 64 < cap; k++, line++)
            o += (size_t)snprintf(big + o, cap - o, "k%d=[1]\n", k);
    }
    nl_arena_destroy(&arena);
    NL_ASSERT_OK(nl_arena_create(&arena, NULL, 64u << 20, "test"));
    nl__toml_value *root;
    NL_ASSERT_EQ(nl__toml_parse(arena, big, o, &root, &err), NL_ECONFIG);
    NL_ASSERT(strstr(err.msg, "too many values (at most 65536)") != NULL);
    NL_ASSERT(err.line > 1000 && err.line < line);
    free(big);

    /* Size. */
    NL_ASSERT_EQ(nl__toml_parse(arena, "", NL_TOML_MAX_SIZE + 1, &root, &err), NL_ETOOBIG);
    NL_ASSERT(root == NULL);
    NL_ASSERT(strstr(err.msg, "larger than") != NULL);
}

/* A small arena: the parser reports memory exhaustion, not a crash. */
static void test_arena_exhausted(void)
{
    const char *doc = "[[cameras]]\nname = \"a\"\naddress = \"b\"\n[[cameras]]\nname = \"c\"\n";
    int saw_oom = 0, saw_ok = 0;
    for (size_t cap = 256; cap < 65536 && !saw_ok; cap += 256) {
        nl_arena *a = NULL;
        if (nl_arena_create(&a, NULL, cap, "small") < 0)
            continue;
        nl__toml_value *root = (nl__toml_value *)1;
        int rc = nl__toml_parse(a, doc, strlen(doc), &root, &err);
        if (rc == NL_ENOMEM) {
            NL_ASSERT(root == NULL);
            NL_ASSERT_STREQ(err.msg, "out of memory");
            saw_oom = 1;
        } else {
            NL_ASSERT_EQ(rc, 0);
            NL_ASSERT_EQ(at(root, "cameras")->u.kids.count, 2);
            saw_ok = 1;
        }
        nl_arena_destroy(&a);
    }
    NL_ASSERT(saw_oom && saw_ok);
}

static void test_type_names(void)
{
    NL_ASSERT_STREQ(nl__toml_type_name(NL_TOML_TABLE), "table");
    NL_ASSERT_STREQ(nl__toml_type_name(NL_TOML_ARRAY), "array");
    NL_ASSERT_STREQ(nl__toml_type_name(NL_TOML_STRING), "string");
    NL_ASSERT_STREQ(nl__toml_type_name(NL_TOML_INT), "integer");
    NL_ASSERT_STREQ(nl__toml_type_name(NL_TOML_FLOAT), "float");
    NL_ASSERT_STREQ(nl__toml_type_name(NL_TOML_BOOL), "boolean");
}

int main(void)
{
    NL_RUN(test_neolink_shape);
    NL_RUN(test_strings);
    NL_RUN(test_numbers);
    NL_RUN(test_arrays_and_inline);
    NL_RUN(test_tables);
    NL_RUN(test_errors);
    NL_RUN(test_caps);
    NL_RUN(test_arena_exhausted);
    NL_RUN(test_type_names);
    nl_arena_destroy(&arena);
    NL_DONE();
}
