/* BC XOR, AES-128-CFB128 and the MD5-based login/key derivations. */
#include <string.h>

#include <libavutil/aes.h>
#include <libavutil/mem.h>
#include <libavutil/md5.h>

#include "bc/crypto.h"
#include "neolink/error.h"

const uint8_t nl_bc_xor_key[8] = {0x1F, 0x2D, 0x3C, 0x4B, 0x5A, 0x69, 0x78, 0xFF};
const uint8_t nl_bc_aes_iv[16] = {'0', '1', '2', '3', '4', '5', '6', '7',
                                  '8', '9', 'a', 'b', 'c', 'd', 'e', 'f'};

void nl_bc_xor(uint8_t off, const uint8_t *in, uint8_t *out, size_t n)
{
    for (size_t i = 0; i < n; i++)
        out[i] = (uint8_t)(in[i] ^ nl_bc_xor_key[(off + i) & 7] ^ off);
}

/* Uppercase hex MD5 of the concatenation of n strings (NULL entries skipped),
 * streamed so no joined copy is ever built. */
static int md5_hex_parts(const char *const *parts, size_t n, char out[33])
{
    static const char hex[] = "0123456789ABCDEF";
    struct AVMD5 *md5 = av_md5_alloc();
    if (!md5)
        return NL_ENOMEM;
    uint8_t digest[16];
    av_md5_init(md5);
    for (size_t i = 0; i < n; i++)
        if (parts[i])
            av_md5_update(md5, (const uint8_t *)parts[i], strlen(parts[i]));
    av_md5_final(md5, digest);
    av_free(md5);
    for (int i = 0; i < 16; i++) {
        out[2 * i] = hex[digest[i] >> 4];
        out[2 * i + 1] = hex[digest[i] & 15];
    }
    out[32] = '\0';
    return 0;
}

int nl_bc_md5_hex(const char *a, const char *b, char out[33])
{
    const char *parts[2] = {a, b};
    return md5_hex_parts(parts, 2, out);
}

int nl_bc_login_hash(const char *s, const char *nonce, char out[NL_BC_HASH_LEN + 1])
{
    char full[33];
    int rc = nl_bc_md5_hex(s ? s : "", nonce, full);
    if (rc < 0)
        return rc;
    memcpy(out, full, NL_BC_HASH_LEN);
    out[NL_BC_HASH_LEN] = '\0';
    return 0;
}

int nl_bc_legacy_field(const char *s, uint8_t out[NL_BC_LEGACY_FIELD_LEN])
{
    memset(out, 0, NL_BC_LEGACY_FIELD_LEN);
    if (!s || !*s)
        return 0;
    char full[33];
    int rc = nl_bc_md5_hex(s, NULL, full);
    if (rc < 0)
        return rc;
    memcpy(out, full, NL_BC_HASH_LEN); /* the 32nd byte stays NUL */
    return 0;
}

int nl_bc_aes_key_derive(const char *nonce, const char *password, uint8_t key[NL_BC_AES_KEY_LEN])
{
    const char *parts[3] = {nonce, "-", password};
    char full[33];
    int rc = md5_hex_parts(parts, 3, full);
    if (rc < 0)
        return rc;
    /* The key is hex text, not the binary digest. */
    memcpy(key, full, NL_BC_AES_KEY_LEN);
    memset(full, 0, sizeof full);
    return 0;
}

int nl_bc_aes_init(nl_bc_aes *a, const uint8_t key[NL_BC_AES_KEY_LEN])
{
    nl_bc_aes_free(a);
    struct AVAES *ctx = av_aes_alloc();
    if (!ctx)
        return NL_ENOMEM;
    /* CFB only ever runs the forward cipher, for both directions. */
    if (av_aes_init(ctx, key, 128, 0) < 0) {
        av_free(ctx);
        return NL_EINVAL;
    }
    a->ctx = ctx;
    memcpy(a->key, key, NL_BC_AES_KEY_LEN);
    return 0;
}

void nl_bc_aes_free(nl_bc_aes *a)
{
    if (a->ctx)
        av_free(a->ctx);
    a->ctx = NULL;
    memset(a->key, 0, sizeof a->key);
}

void nl_bc_aes_cfb(const nl_bc_aes *a, const uint8_t *in, uint8_t *out, size_t n, int decrypt)
{
    uint8_t reg[16], ks[16];
    memcpy(reg, nl_bc_aes_iv, sizeof reg);
    for (size_t i = 0; i < n; i += 16) {
        av_aes_crypt(a->ctx, ks, reg, 1, NULL, 0);
        size_t m = n - i < 16 ? n - i : 16;
        for (size_t j = 0; j < m; j++) {
            uint8_t c = in[i + j]; /* read first: in may alias out */
            uint8_t o = (uint8_t)(c ^ ks[j]);
            out[i + j] = o;
            reg[j] = decrypt ? c : o;
        }
    }
}
