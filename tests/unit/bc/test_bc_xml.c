/* Bounded XML parser and camera-style writer (sheet §4.1). */
#include "bc/crypto.h"
#include "bc/xml.h"
#include "core/alloc.h"
#include "neolink/error.h"
#include "test.h"

static int vectors;

static unsigned char *load(const char *name, size_t *len)
{
    char path[512];
    snprintf(path, sizeof path, "%s/bc/%s", NL_TEST_DATA, name);
    return nl_test_read_file(path, len);
}

static int parse_str(nl_bc_xml *x, const char *s, const nl_bc_xml_node **root)
{
    return nl_bc_xml_parse(x, s, strlen(s), root);
}

static void test_parse_sample(void)
{
    nl_bc_xml *x;
    NL_ASSERT_OK(nl_bc_xml_create(&x, NULL));
    size_t n;
    unsigned char *p = load("xml_crypto_sample1_plaintext.bin", &n);
    const nl_bc_xml_node *root;
    NL_ASSERT_OK(nl_bc_xml_parse(x, p, n, &root));
    NL_ASSERT_STREQ(root->name, "body");
    NL_ASSERT_STREQ(root->text, "");
    NL_ASSERT_STREQ(nl_bc_xml_find(root, "Encryption/nonce"), "9E6D1FCB9E69846D");
    NL_ASSERT_STREQ(nl_bc_xml_find(root, "Encryption/type"), "md5");
    NL_ASSERT_STREQ(nl_bc_xml_find(root, "body/Encryption/nonce"), "9E6D1FCB9E69846D");
    NL_ASSERT(nl_bc_xml_find(root, "Encryption/missing") == NULL);
    NL_ASSERT(nl_bc_xml_find(root, "Encrypt/nonce") == NULL);
    NL_ASSERT(nl_bc_xml_find(root, "Encryption/nonc") == NULL);
    const nl_bc_xml_node *enc = nl_bc_xml_child(root, "Encryption");
    NL_ASSERT(enc && enc->parent == root && enc->next == NULL);
    NL_ASSERT_STREQ(enc->child->name, "type");
    NL_ASSERT_STREQ(enc->child->next->name, "nonce");
    NL_ASSERT_EQ(enc->child->next->text_len, 16);
    vectors++;
    free(p);

    /* The login reply: three StreamInfo blocks, repeated names. */
    p = load("modern_login_success.bin", &n);
    nl_bc_xor(0, p + 24, p + 24, n - 24);
    NL_ASSERT_OK(nl_bc_xml_parse(x, p + 24, n - 24, &root));
    long long v;
    NL_ASSERT_OK(nl_bc_xml_find_ll(root, "DeviceInfo/resolution/width", &v));
    NL_ASSERT_EQ(v, 3840);
    NL_ASSERT_STREQ(nl_bc_xml_find(root, "DeviceInfo/resolution/resolutionName"), "3840*2160");
    NL_ASSERT_EQ(nl_bc_xml_find_ll(root, "DeviceInfo/type", &v), NL_EPROTO);
    NL_ASSERT_EQ(nl_bc_xml_find_ll(root, "DeviceInfo/nothing", &v), NL_ENOENT);
    int64_t i64;
    NL_ASSERT_EQ(nl_bc_xml_find_int(root, "DeviceInfo/channelNum", 2, 10, &i64), NL_ERANGE);
    NL_ASSERT_OK(nl_bc_xml_find_int(root, "DeviceInfo/channelNum", 0, 10, &i64));
    NL_ASSERT_EQ(i64, 1);
    const nl_bc_xml_node *si = nl_bc_xml_find_node(root, "StreamInfoList/StreamInfo");
    int count = 0;
    for (; si; si = nl_bc_xml_next_same(si))
        count++;
    NL_ASSERT_EQ(count, 3);
    char small[8];
    NL_ASSERT_EQ(nl_bc_xml_find_copy(root, "DeviceInfo/type", small, sizeof small), 3);
    NL_ASSERT_STREQ(small, "ipc");
    NL_ASSERT_EQ(nl_bc_xml_find_copy(root, "DeviceInfo/firmVersion", small, sizeof small),
                 NL_ERANGE);
    NL_ASSERT_STREQ(small, "0000000");
    NL_ASSERT_EQ(nl_bc_xml_find_copy(root, "DeviceInfo/nope", small, sizeof small), NL_ENOENT);
    NL_ASSERT_STREQ(small, "");
    vectors++;
    free(p);
    nl_bc_xml_destroy(&x);
    NL_ASSERT(x == NULL);
    nl_bc_xml_destroy(&x);
}

static void test_tolerance(void)
{
    nl_bc_xml *x;
    NL_ASSERT_OK(nl_bc_xml_create(&x, NULL));
    const nl_bc_xml_node *r;
    /* Whitespace before the declaration (one client sends a newline). */
    NL_ASSERT_OK(parse_str(x,
                           "\n  <?xml version=\"1.0\" encoding=\"UTF-8\" ?>\n<Extension "
                           "version=\"1.1\"><channelId>3</channelId></Extension>",
                           &r));
    NL_ASSERT_STREQ(nl_bc_xml_find(r, "channelId"), "3");
    /* Compact declaration without the space (quick-xml style). */
    NL_ASSERT_OK(parse_str(x,
                           "<?xml version=\"1.0\" encoding=\"UTF-8\"?><body><LoginUser "
                           "version=\"1.1\"><userName>a</userName></LoginUser></body>",
                           &r));
    NL_ASSERT_STREQ(nl_bc_xml_find(r, "LoginUser/userName"), "a");
    /* No declaration, indented text, trailing NULs, entities. */
    static const char t[] = "<body>\n    <a>  x &amp; y &lt;z&gt; &#65;  </a>\n</body>\n\0\0";
    NL_ASSERT_OK(nl_bc_xml_parse(x, t, sizeof t, &r));
    NL_ASSERT_STREQ(nl_bc_xml_find(r, "a"), "x & y <z> A");
    /* BOM. */
    NL_ASSERT_OK(parse_str(x, "\xEF\xBB\xBF<a>1</a>", &r));
    NL_ASSERT_STREQ(r->text, "1");
    /* Empty element, self-closing element. */
    NL_ASSERT_OK(parse_str(x, "<a><b></b><c/></a>", &r));
    NL_ASSERT_STREQ(nl_bc_xml_find(r, "b"), "");
    NL_ASSERT_STREQ(nl_bc_xml_find(r, "c"), "");
    /* Mixed content: text after a child is dropped, the leaf text stays. */
    NL_ASSERT_OK(parse_str(x, "<a>lead<b>in</b>tail</a>", &r));
    NL_ASSERT_STREQ(r->text, "");
    NL_ASSERT_STREQ(nl_bc_xml_find(r, "b"), "in");
    vectors += 7;
    nl_bc_xml_destroy(&x);
}

static void test_errors_and_caps(void)
{
    nl_bc_xml_limits lim = {.max_input = 200, .max_depth = 4, .max_nodes = 6, .max_text = 10};
    nl_bc_xml *x;
    NL_ASSERT_OK(nl_bc_xml_create(&x, &lim));
    const nl_bc_xml_node *r = (const nl_bc_xml_node *)1;
    NL_ASSERT_EQ(parse_str(x, "", &r), NL_EXML);
    NL_ASSERT(r == NULL);
    NL_ASSERT_EQ(parse_str(x, "   \n", &r), NL_EXML);
    NL_ASSERT_EQ(parse_str(x, "<a><b></a>", &r), NL_EXML);
    NL_ASSERT_EQ(parse_str(x, "<a></a><b></b>", &r), NL_EXML);
    NL_ASSERT_EQ(parse_str(x, "<a>&bogus;</a>", &r), NL_EXML);
    NL_ASSERT_EQ(parse_str(x, "binary\x01\x02", &r), NL_EXML);
    /* DOCTYPE (entity expansion) is refused outright. */
    NL_ASSERT_EQ(parse_str(x, "<!DOCTYPE a [<!ENTITY e \"x\">]><a>&e;</a>", &r), NL_EXML);
    /* Caps. */
    NL_ASSERT_OK(parse_str(x, "<a><b><c><d>x</d></c></b></a>", &r));
    NL_ASSERT_EQ(parse_str(x, "<a><b><c><d><e>x</e></d></c></b></a>", &r), NL_ELIMIT);
    NL_ASSERT_OK(parse_str(x, "<a><b/><b/><b/><b/><b/></a>", &r));
    NL_ASSERT_EQ(parse_str(x, "<a><b/><b/><b/><b/><b/><b/></a>", &r), NL_ELIMIT);
    NL_ASSERT_OK(parse_str(x, "<a>0123456789</a>", &r));
    NL_ASSERT_EQ(parse_str(x, "<a>0123456789A</a>", &r), NL_ELIMIT);
    char big[256];
    memset(big, ' ', sizeof big);
    memcpy(big, "<a/>", 4);
    NL_ASSERT_EQ(nl_bc_xml_parse(x, big, 201, &r), NL_ETOOBIG);
    NL_ASSERT_OK(nl_bc_xml_parse(x, big, 200, &r));
    /* The parser is still usable after every failure. */
    NL_ASSERT_OK(parse_str(x, "<a><b>ok</b></a>", &r));
    NL_ASSERT_STREQ(nl_bc_xml_find(r, "b"), "ok");
    vectors += 16;
    nl_bc_xml_destroy(&x);

    NL_ASSERT(nl_bc_xml_looks_like((const uint8_t *)" \n<?xml", 7));
    NL_ASSERT(nl_bc_xml_looks_like((const uint8_t *)"<body>", 6));
    NL_ASSERT(!nl_bc_xml_looks_like((const uint8_t *)"<", 1));
    NL_ASSERT(!nl_bc_xml_looks_like((const uint8_t *)"00dcH265", 8));
    NL_ASSERT(!nl_bc_xml_looks_like((const uint8_t *)"< a", 3));
}

static long write_ext(nl_dbuf *b, const char *field, const char *value)
{
    nl_bc_xmlw w;
    nl_bc_xmlw_init(&w, b);
    nl_bc_xmlw_decl(&w);
    nl_bc_xmlw_open(&w, "Extension", 1);
    nl_bc_xmlw_text(&w, field, value);
    nl_bc_xmlw_close(&w, "Extension");
    return nl_bc_xmlw_finish(&w);
}

static void test_writer(void)
{
    nl_dbuf b;
    nl_dbuf_init(&b, 4096);
    /* The sheet's byte lengths: 104 (channel Extension), 106 (binaryData). */
    NL_ASSERT_EQ(write_ext(&b, "channelId", "0"), 104);
    NL_ASSERT_MEMEQ(b.data,
                    "<?xml version=\"1.0\" encoding=\"UTF-8\" ?>\n<Extension version=\"1.1\">\n"
                    "<channelId>0</channelId>\n</Extension>\n",
                    104);
    nl_dbuf_reset(&b);
    NL_ASSERT_EQ(write_ext(&b, "binaryData", "1"), 106);
    nl_dbuf_reset(&b);
    vectors += 2;

    /* mainStream Preview = 170 bytes, identical to the B800 capture. */
    nl_bc_xmlw w;
    nl_bc_xmlw_init(&w, &b);
    nl_bc_xmlw_decl(&w);
    nl_bc_xmlw_open(&w, "body", 0);
    nl_bc_xmlw_open(&w, "Preview", 1);
    nl_bc_xmlw_int(&w, "channelId", 0);
    nl_bc_xmlw_int(&w, "handle", 0);
    nl_bc_xmlw_text(&w, "streamType", "mainStream");
    nl_bc_xmlw_close(&w, "Preview");
    nl_bc_xmlw_close(&w, "body");
    NL_ASSERT_EQ(nl_bc_xmlw_finish(&w), 170);
    size_t n;
    unsigned char *p = load("xml_mainstream_b800.bin", &n);
    nl_bc_xor(p[12], p + 24, p + 24, n - 24);
    NL_ASSERT_EQ(n - 24, 170);
    NL_ASSERT_MEMEQ(b.data, p + 24, 170);
    free(p);
    vectors++;

    /* Escaping and appending after existing content. */
    nl_dbuf_reset(&b);
    nl_dbuf_append(&b, "XX", 2);
    nl_bc_xmlw_init(&w, &b);
    nl_bc_xmlw_text(&w, "p", "a&b<c>\"'");
    nl_bc_xmlw_int(&w, "n", -25200);
    NL_ASSERT_EQ(nl_bc_xmlw_finish(&w), 40);
    NL_ASSERT_MEMEQ(b.data, "XX<p>a&amp;b&lt;c&gt;\"'</p>\n<n>-25200</n>\n", 42);
    /* Control characters are refused; unbalanced elements are NL_ESTATE. */
    nl_bc_xmlw_init(&w, &b);
    nl_bc_xmlw_text(&w, "p", "bad\x01");
    NL_ASSERT_EQ(nl_bc_xmlw_finish(&w), NL_EINVAL);
    nl_bc_xmlw_init(&w, &b);
    nl_bc_xmlw_open(&w, "a", 0);
    NL_ASSERT_EQ(nl_bc_xmlw_finish(&w), NL_ESTATE);
    nl_bc_xmlw_init(&w, &b);
    nl_bc_xmlw_close(&w, "a");
    NL_ASSERT_EQ(nl_bc_xmlw_finish(&w), NL_ESTATE);
    nl_dbuf_free(&b);

    /* The buffer cap is a hard limit. */
    nl_dbuf_init(&b, 100);
    NL_ASSERT_EQ(write_ext(&b, "channelId", "0"), NL_ETOOBIG);
    nl_dbuf_free(&b);

    /* What the writer writes, the parser reads back. */
    nl_dbuf_init(&b, 4096);
    nl_bc_xmlw_init(&w, &b);
    nl_bc_xmlw_decl(&w);
    nl_bc_xmlw_open(&w, "body", 0);
    nl_bc_xmlw_text(&w, "deviceName", "Yard & <Gate>");
    nl_bc_xmlw_close(&w, "body");
    long len = nl_bc_xmlw_finish(&w);
    NL_ASSERT(len > 0);
    nl_bc_xml *x;
    NL_ASSERT_OK(nl_bc_xml_create(&x, NULL));
    const nl_bc_xml_node *r;
    NL_ASSERT_OK(nl_bc_xml_parse(x, b.data, (size_t)len, &r));
    NL_ASSERT_STREQ(nl_bc_xml_find(r, "deviceName"), "Yard & <Gate>");
    nl_bc_xml_destroy(&x);
    nl_dbuf_free(&b);
    vectors++;
}

/* Fails the Nth allocation from now on (and every later one), so each
 * allocation site's error path runs once per N. */
static long fail_at;
static void *fail_malloc(void *ud, size_t n)
{
    (void)ud;
    return fail_at-- > 0 ? malloc(n) : NULL;
}
static void *fail_realloc(void *ud, void *p, size_t n)
{
    (void)ud;
    return fail_at-- > 0 ? realloc(p, n) : NULL;
}
static void fail_free(void *ud, void *p)
{
    (void)ud;
    free(p);
}

static void test_out_of_memory(void)
{
    size_t n;
    unsigned char *p = load("modern_login_success.bin", &n);
    nl_bc_xor(0, p + 24, p + 24, n - 24);
    const nl_allocator failing = {fail_malloc, fail_realloc, fail_free, NULL};
    long live = nl_allocator_live();
    int ok = 0, nomem = 0;
    for (long nth = 0; !ok; nth++) {
        NL_ASSERT(nth < 10000);
        fail_at = nth;
        nl_allocator_set(&failing);
        nl_bc_xml *x = NULL;
        int rc = nl_bc_xml_create(&x, NULL);
        const nl_bc_xml_node *r = NULL;
        if (rc == 0)
            rc = nl_bc_xml_parse(x, p + 24, n - 24, &r);
        long long w = 0;
        if (rc == 0)
            rc = nl_bc_xml_find_ll(r, "DeviceInfo/resolution/width", &w);
        /* A parse that failed for memory leaves the parser usable. */
        if (rc == NL_ENOMEM && x) {
            nl_allocator_set(NULL);
            NL_ASSERT_OK(nl_bc_xml_parse(x, "<a>1</a>", 8, &r));
            NL_ASSERT_STREQ(r->text, "1");
        }
        nl_allocator_set(NULL);
        nl_bc_xml_destroy(&x);
        NL_ASSERT(rc == 0 || rc == NL_ENOMEM);
        NL_ASSERT_EQ(nl_allocator_live(), live);
        if (rc == 0) {
            NL_ASSERT_EQ(w, 3840);
            ok = 1;
        } else {
            nomem++;
        }
    }
    NL_ASSERT(nomem > 3);
    printf("  %d allocation failures handled cleanly\n", nomem);
    free(p);
    vectors++;
}

int main(void)
{
    long live = nl_allocator_live();
    NL_RUN(test_parse_sample);
    NL_RUN(test_tolerance);
    NL_RUN(test_errors_and_caps);
    NL_RUN(test_writer);
    NL_RUN(test_out_of_memory);
    NL_ASSERT_EQ(nl_allocator_live(), live);
    printf("%d xml vectors checked\n", vectors);
    NL_DONE();
}
