/* BC crypto vectors from the sheet: XOR (§2.2), AES key and CFB128 (§2.3),
 * login hashes (§3.1) and legacy MD5 fields (§3.2, §8.4). */
#include "bc/crypto.h"
#include "neolink/error.h"
#include "test.h"

static int vectors;

static void hex2bin(const char *hex, uint8_t *out, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        unsigned v;
        NL_ASSERT(sscanf(hex + 2 * i, "%2x", &v) == 1);
        out[i] = (uint8_t)v;
    }
}

static unsigned char *load(const char *name, size_t *len)
{
    char path[512];
    snprintf(path, sizeof path, "%s/bc/%s", NL_TEST_DATA, name);
    return nl_test_read_file(path, len);
}

static void test_xor_vectors(void)
{
    static const struct {
        uint8_t off;
        uint8_t expect[5];
    } v[] = {
        {0x00, {0x23, 0x12, 0x44, 0x26, 0x36}},
        {0x8a, {0x8a, 0xfe, 0xa8, 0x8e, 0x9e}},
        {250, {0xfa, 0x8e, 0xd8, 0xfe, 0xee}},
    };
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
        uint8_t out[5];
        nl_bc_xor(v[i].off, (const uint8_t *)"<?xml", out, 5);
        NL_ASSERT_MEMEQ(out, v[i].expect, 5);
        /* Its own inverse, and in place works. */
        nl_bc_xor(v[i].off, out, out, 5);
        NL_ASSERT_MEMEQ(out, "<?xml", 5);
        vectors++;
    }
}

static void test_xor_sample(void)
{
    size_t n, pn;
    unsigned char *c = load("xml_crypto_sample1.bin", &n);
    unsigned char *p = load("xml_crypto_sample1_plaintext.bin", &pn);
    NL_ASSERT_EQ(n, 145);
    NL_ASSERT_EQ(pn, 145);
    nl_bc_xor(0, c, c, n);
    NL_ASSERT_MEMEQ(c, p, n);
    vectors++;
    free(c);
    free(p);

    /* The B800 Preview request: body enciphered with offset 0x8a (byte 12). */
    unsigned char *b = load("xml_mainstream_b800.bin", &n);
    NL_ASSERT_EQ(b[12], 0x8a);
    nl_bc_xor(b[12], b + 24, b + 24, n - 24);
    NL_ASSERT_MEMEQ(b + 24, "<?xml version=\"1.0\" encoding=\"UTF-8\" ?>\n<body>\n<Preview", 55);
    vectors++;
    free(b);
}

static void test_md5(void)
{
    char hex[33];
    NL_ASSERT_OK(nl_bc_md5_hex("admin", NULL, hex));
    NL_ASSERT_STREQ(hex, "21232F297A57A5A743894A0E4A801FC3");
    NL_ASSERT_OK(nl_bc_md5_hex("123", "456", hex));
    NL_ASSERT_STREQ(hex, "E10ADC3949BA59ABBE56E057F20F883E");
    NL_ASSERT_OK(nl_bc_md5_hex("9E6D1FCB9E69846D-", "123456", hex));
    NL_ASSERT_STREQ(hex, "0D119EB629684BDF5269975E342A1A99");
    vectors += 3;

    uint8_t f[32];
    NL_ASSERT_OK(nl_bc_legacy_field("admin", f));
    NL_ASSERT_MEMEQ(f, "21232F297A57A5A743894A0E4A801FC\0", 32);
    NL_ASSERT_OK(nl_bc_legacy_field("123456", f));
    NL_ASSERT_MEMEQ(f, "E10ADC3949BA59ABBE56E057F20F883\0", 32);
    static const uint8_t zero[32];
    NL_ASSERT_OK(nl_bc_legacy_field(NULL, f));
    NL_ASSERT_MEMEQ(f, zero, 32);
    NL_ASSERT_OK(nl_bc_legacy_field("", f));
    NL_ASSERT_MEMEQ(f, zero, 32);
    vectors += 4;
}

static void test_login_hash(void)
{
    char h[32];
    NL_ASSERT_OK(nl_bc_login_hash("admin", "9E6D1FCB9E69846D", h));
    NL_ASSERT_STREQ(h, "9F07915E819A076E2E14169830769D6");
    NL_ASSERT_EQ(strlen(h), 31);
    NL_ASSERT_OK(nl_bc_login_hash("", "9E6D1FCB9E69846D", h));
    NL_ASSERT_STREQ(h, "8EFECD610524A98390F118D2789BE3B");
    NL_ASSERT_OK(nl_bc_login_hash(NULL, "9E6D1FCB9E69846D", h));
    NL_ASSERT_STREQ(h, "8EFECD610524A98390F118D2789BE3B");
    vectors += 3;
}

static void test_aes(void)
{
    uint8_t key[16];
    NL_ASSERT_OK(nl_bc_aes_key_derive("9E6D1FCB9E69846D", "123456", key));
    NL_ASSERT_MEMEQ(key, "0D119EB629684BDF", 16);
    vectors++;

    static const char decl[] = "<?xml version=\"1.0\" encoding=\"UTF-8\" ?>\n";
    NL_ASSERT_EQ(sizeof decl - 1, 40);
    uint8_t expect[40];
    hex2bin("c640e9ad98c8769f3cdb1a55cfd4985710bee2e828f6d0d6cd7b76bc8c7cc3fe19a62165915a813b",
            expect, 40);
    nl_bc_aes a = {0};
    NL_ASSERT_OK(nl_bc_aes_init(&a, key));
    NL_ASSERT(nl_bc_aes_ready(&a));
    uint8_t buf[40];
    nl_bc_aes_cfb(&a, (const uint8_t *)decl, buf, 40, 0);
    NL_ASSERT_MEMEQ(buf, expect, 40);
    vectors++;
    /* Decrypt in place restores it; every call starts from the fresh IV. */
    nl_bc_aes_cfb(&a, buf, buf, 40, 1);
    NL_ASSERT_MEMEQ(buf, decl, 40);
    /* Any prefix of the stream enciphers to a prefix of the ciphertext. */
    for (size_t n = 0; n <= 40; n++) {
        uint8_t part[40];
        nl_bc_aes_cfb(&a, (const uint8_t *)decl, part, n, 0);
        NL_ASSERT_MEMEQ(part, expect, n);
    }

    /* Empty password: key A763AB622CEF5890; the 104-byte channel Extension
     * enciphers to 2865ed44... */
    NL_ASSERT_OK(nl_bc_aes_key_derive("9E6D1FCB9E69846D", "", key));
    NL_ASSERT_MEMEQ(key, "A763AB622CEF5890", 16);
    NL_ASSERT_OK(nl_bc_aes_key_derive("9E6D1FCB9E69846D", NULL, key));
    NL_ASSERT_MEMEQ(key, "A763AB622CEF5890", 16);
    vectors++;
    NL_ASSERT_OK(nl_bc_aes_init(&a, key)); /* re-init replaces the old key */
    static const char ext[] = "<?xml version=\"1.0\" encoding=\"UTF-8\" ?>\n"
                              "<Extension version=\"1.1\">\n"
                              "<channelId>0</channelId>\n"
                              "</Extension>\n";
    NL_ASSERT_EQ(sizeof ext - 1, 104);
    uint8_t c[104];
    nl_bc_aes_cfb(&a, (const uint8_t *)ext, c, 104, 0);
    uint8_t e2[16];
    hex2bin("2865ed445f137619887f9df1f37b9204", e2, 16);
    NL_ASSERT_MEMEQ(c, e2, 16);
    vectors++;
    nl_bc_aes_cfb(&a, c, c, 104, 1);
    NL_ASSERT_MEMEQ(c, ext, 104);
    nl_bc_aes_free(&a);
    NL_ASSERT(!nl_bc_aes_ready(&a));
    nl_bc_aes_free(&a); /* twice is harmless */
}

int main(void)
{
    NL_RUN(test_xor_vectors);
    NL_RUN(test_xor_sample);
    NL_RUN(test_md5);
    NL_RUN(test_login_hash);
    NL_RUN(test_aes);
    printf("%d crypto vectors checked\n", vectors);
    NL_DONE();
}
