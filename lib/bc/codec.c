/* Per-connection BC codec: picks the scheme for each section, deciphers in
 * place, tracks binary mode per correlation word, and enciphers outgoing
 * messages. Trying another scheme never needs a copy: XOR is its own inverse
 * and CFB re-encryption of the deciphered bytes restores the ciphertext
 * exactly, so a failed attempt is undone in place. */
#include <string.h>

#include "bc/codec.h"
#include "neolink/error.h"

int nl_bc_codec_init(nl_bc_codec *c, int lenient)
{
    memset(c, 0, sizeof *c);
    c->lenient = lenient ? 1 : 0;
    /* Extensions are a few hundred bytes; small caps keep them cheap. */
    nl_bc_xml_limits lim = {
        .max_input = 64 * 1024, .max_depth = 8, .max_nodes = 64, .max_text = NL_BC_TOKEN_MAX * 4};
    return nl_bc_xml_create(&c->xml, &lim);
}

void nl_bc_codec_free(nl_bc_codec *c)
{
    nl_bc_aes_free(&c->aes);
    nl_bc_xml_destroy(&c->xml);
}

void nl_bc_codec_reset(nl_bc_codec *c)
{
    nl_bc_aes_free(&c->aes);
    c->level = 0;
    c->aes_on = 0;
    c->bin_count = 0;
    c->bin_next = 0;
}

static int level_is_aes(uint8_t level)
{
    return level == NL_BC_ENC_AES || level == NL_BC_ENC_AES_ALT || level == NL_BC_ENC_FULLAES;
}

int nl_bc_codec_set_level(nl_bc_codec *c, uint8_t level)
{
    if (level != NL_BC_ENC_NONE && level != NL_BC_ENC_BC && !level_is_aes(level))
        return NL_EPROTO;
    c->level = level;
    return 0;
}

int nl_bc_codec_login_done(nl_bc_codec *c, const char *nonce, const char *password)
{
    uint8_t key[NL_BC_AES_KEY_LEN];
    int rc = nl_bc_aes_key_derive(nonce, password, key);
    if (rc == 0)
        rc = nl_bc_aes_init(&c->aes, key);
    memset(key, 0, sizeof key);
    if (rc < 0)
        return rc;
    c->aes_on = level_is_aes(c->level);
    return 0;
}

int nl_bc_codec_scheme(const nl_bc_codec *c, const nl_bc_header *h)
{
    /* The nonce reply says its own level; every other msg-1 message uses the
     * negotiated one, and none of them is ever AES (sheet §2.4). */
    if (h->msg_class == NL_BC_CLASS_LEGACY_REPLY)
        return nl_bc_hdr_enc_level(h) ? NL_BC_SCHEME_XOR : NL_BC_SCHEME_PLAIN;
    if (h->msg_id != NL_BC_MSG_LOGIN && c->aes_on)
        return NL_BC_SCHEME_AES;
    return c->level ? NL_BC_SCHEME_XOR : NL_BC_SCHEME_PLAIN;
}

void nl_bc_codec_set_binary(nl_bc_codec *c, uint32_t corr, int on)
{
    for (unsigned i = 0; i < c->bin_count; i++) {
        if (c->bin_corr[i] != corr)
            continue;
        if (!on) {
            c->bin_corr[i] = c->bin_corr[--c->bin_count];
            if (c->bin_next >= c->bin_count)
                c->bin_next = 0;
        }
        return;
    }
    if (!on)
        return;
    if (c->bin_count < NL_BC_BINARY_SLOTS) {
        c->bin_corr[c->bin_count++] = corr;
        return;
    }
    /* Full: a peer with this many live binary streams is misbehaving; forget
     * one (round robin) rather than grow. */
    c->bin_corr[c->bin_next] = corr;
    c->bin_next = (c->bin_next + 1) % NL_BC_BINARY_SLOTS;
}

int nl_bc_codec_is_binary(const nl_bc_codec *c, uint32_t corr)
{
    for (unsigned i = 0; i < c->bin_count; i++)
        if (c->bin_corr[i] == corr)
            return 1;
    return 0;
}

/* Applies scheme s to buf in place. Returns 0, or NL_ESTATE for AES without
 * a key. */
static int apply(const nl_bc_codec *c, int s, uint8_t off, uint8_t *buf, size_t n, int decrypt)
{
    switch (s) {
    case NL_BC_SCHEME_XOR:
        nl_bc_xor(off, buf, buf, n);
        return 0;
    case NL_BC_SCHEME_AES:
        if (!nl_bc_aes_ready(&c->aes))
            return NL_ESTATE;
        nl_bc_aes_cfb(&c->aes, buf, buf, n, decrypt);
        return 0;
    default:
        return 0;
    }
}

/* Deciphers an XML section in place. Tries the expected scheme first, then
 * (lenient) the others. Returns the scheme used, or NL_ECRYPTO with buf
 * restored to its original bytes. */
static int decipher_xml(const nl_bc_codec *c, int expected, uint8_t off, uint8_t *buf, size_t n)
{
    static const int order[] = {NL_BC_SCHEME_AES, NL_BC_SCHEME_XOR, NL_BC_SCHEME_PLAIN};
    if (apply(c, expected, off, buf, n, 1) == 0) {
        if (nl_bc_xml_looks_like(buf, n))
            return expected;
        apply(c, expected, off, buf, n, 0);
    }
    if (!c->lenient)
        return NL_ECRYPTO;
    for (size_t i = 0; i < sizeof order / sizeof order[0]; i++) {
        int s = order[i];
        if (s == expected || apply(c, s, off, buf, n, 1) < 0)
            continue;
        if (nl_bc_xml_looks_like(buf, n))
            return s;
        apply(c, s, off, buf, n, 0);
    }
    return NL_ECRYPTO;
}

int nl_bc_codec_decode(nl_bc_codec *c, nl_bc_msg *m, nl_bc_decoded *d)
{
    memset(d, 0, sizeof *d);
    const nl_bc_header *h = &m->hdr;
    d->hdr = h;
    d->payload = m->payload;
    d->payload_len = m->payload_len;
    if (h->msg_class == NL_BC_CLASS_LEGACY) {
        /* Either empty (upgrade request) or the fixed MD5 login block. */
        d->binary = 1;
        return 0;
    }
    int expected = nl_bc_codec_scheme(c, h);
    uint8_t off = nl_bc_hdr_channel(h);

    if (m->ext_len) {
        int s = decipher_xml(c, expected, off, m->ext, m->ext_len);
        if (s < 0)
            return s;
        d->ext_scheme = (uint8_t)s;
        if (s != expected)
            d->flags |= NL_BC_DEC_FALLBACK;
        d->ext_xml = (const char *)m->ext;
        d->ext_xml_len = m->ext_len;
        const nl_bc_xml_node *root;
        int rc = nl_bc_xml_parse(c->xml, m->ext, m->ext_len, &root);
        if (rc == 0)
            rc = nl_bc_parse_extension(root, &d->ext);
        if (rc < 0)
            return rc;
        if (d->ext.has & NL_BC_EXT_BINARY)
            nl_bc_codec_set_binary(c, h->corr, d->ext.binary_data != 0);
    }

    if (m->payload_len == 0)
        return 0;
    if (nl_bc_codec_is_binary(c, h->corr)) {
        d->binary = 1;
        if ((d->ext.has & NL_BC_EXT_ENCRYPT_LEN) && nl_bc_aes_ready(&c->aes)) {
            size_t n = d->ext.encrypt_len < m->payload_len ? d->ext.encrypt_len : m->payload_len;
            nl_bc_aes_cfb(&c->aes, m->payload, m->payload, n, 1);
            d->flags |= NL_BC_DEC_PREFIX_AES;
        }
        return 0;
    }
    int s = decipher_xml(c, expected, off, m->payload, m->payload_len);
    if (s < 0) {
        /* Not in binary mode and not XML: snapshot chunks can arrive under
         * another correlation word, so hand the bytes over untouched. */
        d->binary = 1;
        d->flags |= NL_BC_DEC_GUESSED_BINARY;
        return 0;
    }
    d->payload_scheme = (uint8_t)s;
    if (s != expected)
        d->flags |= NL_BC_DEC_FALLBACK;
    return 0;
}

long nl_bc_codec_encode(nl_bc_codec *c, const nl_bc_header *h, const void *ext, size_t ext_len,
                        const void *payload, size_t payload_len, unsigned opts, size_t aes_prefix,
                        nl_dbuf *out)
{
    unsigned hlen = nl_bc_class_header_len(h->msg_class, NULL);
    if (ext_len && hlen != NL_BC_HDR_LEN_LONG)
        return NL_EINVAL;
    if (ext_len > UINT32_MAX || payload_len > UINT32_MAX - ext_len)
        return NL_EINVAL;
    int binary = (opts & NL_BC_OUT_BINARY) != 0;
    if (binary && aes_prefix && !nl_bc_aes_ready(&c->aes))
        return NL_ESTATE;
    int s = h->msg_class == NL_BC_CLASS_LEGACY ? NL_BC_SCHEME_PLAIN : nl_bc_codec_scheme(c, h);
    if (s == NL_BC_SCHEME_AES && !nl_bc_aes_ready(&c->aes))
        return NL_ESTATE;

    size_t total = hlen + ext_len + payload_len;
    if (total > nl_dbuf_room(out))
        return NL_ETOOBIG;
    uint8_t *p = nl_dbuf_reserve(out, total);
    if (!p)
        return NL_ENOMEM;

    nl_bc_header hh = *h;
    hh.body_len = (uint32_t)(ext_len + payload_len);
    hh.payload_offset = (uint32_t)ext_len;
    nl_bc_header_write(&hh, p);
    uint8_t off = nl_bc_hdr_channel(h);
    uint8_t *e = p + hlen;
    if (ext_len) {
        memcpy(e, ext, ext_len);
        apply(c, s, off, e, ext_len, 0);
    }
    uint8_t *pl = e + ext_len;
    if (payload_len) {
        memcpy(pl, payload, payload_len);
        if (!binary)
            apply(c, s, off, pl, payload_len, 0);
        else if (aes_prefix)
            nl_bc_aes_cfb(&c->aes, pl, pl, aes_prefix < payload_len ? aes_prefix : payload_len, 0);
    }
    nl_dbuf_commit(out, total);
    return (long)total;
}
