/* BC cryptography (sheet §2, §3): the XOR "BCEncrypt" scheme, AES-128-CFB128
 * with the fixed IV, AES key derivation from nonce and password, and the MD5
 * login hashes. Built on libavutil's av_aes (ECB block encryption; CFB128 is
 * implemented here because libavutil has no CFB mode) and av_md5.
 *
 * Every section (extension, payload) is enciphered independently: XOR with i
 * restarting at 0, AES from a fresh IV. Both schemes keep the length.
 *
 * Threads: the functions are reentrant; an nl_bc_aes is read-only after init
 * and may be shared. Nothing blocks. */
#ifndef NL_BC_CRYPTO_H
#define NL_BC_CRYPTO_H

#include <stddef.h>
#include <stdint.h>

#include "bc/msg.h"

#define NL_BC_AES_KEY_LEN 16

/* The 8-byte XOR key, the same for every camera (§2.2). */
extern const uint8_t nl_bc_xor_key[8];
/* The AES-CFB IV: ASCII "0123456789abcdef" (§2.3). */
extern const uint8_t nl_bc_aes_iv[16];

/* XOR-enciphers n bytes from in to out (in == out allowed) with key offset
 * `off` (header byte 12): out[i] = in[i] ^ KEY[(off + i) % 8] ^ off. Its own
 * inverse. */
void nl_bc_xor(uint8_t off, const uint8_t *in, uint8_t *out, size_t n);

/* Uppercase hex MD5 of the concatenation a || b (b may be NULL) into out
 * (32 hex digits + NUL). Returns 0 or NL_ENOMEM. */
int nl_bc_md5_hex(const char *a, const char *b, char out[33]);

/* Modern login hash H(s + nonce): uppercase hex MD5 cut to 31 characters
 * (the 32nd digit dropped), NUL-terminated in out. NULL s counts as "".
 * Returns 0 or NL_ENOMEM. */
int nl_bc_login_hash(const char *s, const char *nonce, char out[NL_BC_HASH_LEN + 1]);

/* Legacy login field (§3.2): the 31-character hash of s followed by one NUL;
 * NULL or "" gives 32 NUL bytes. Returns 0 or NL_ENOMEM. */
int nl_bc_legacy_field(const char *s, uint8_t out[NL_BC_LEGACY_FIELD_LEN]);

/* AES key (§2.3): the first 16 characters of UPPERCASE_HEX(MD5(nonce + "-" +
 * password)) taken as ASCII bytes. NULL password counts as "".
 * Returns 0 or NL_ENOMEM. */
int nl_bc_aes_key_derive(const char *nonce, const char *password, uint8_t key[NL_BC_AES_KEY_LEN]);

/* An expanded AES-128 key. Zero-initialise or call nl_bc_aes_init. */
typedef struct nl_bc_aes {
    struct AVAES *ctx;
    uint8_t key[NL_BC_AES_KEY_LEN];
} nl_bc_aes;

/* Expands key into a; replaces any previous key. Returns 0 or NL_ENOMEM
 * (a is then empty). The context is libavutil memory, released by
 * nl_bc_aes_free. */
int nl_bc_aes_init(nl_bc_aes *a, const uint8_t key[NL_BC_AES_KEY_LEN]);
void nl_bc_aes_free(nl_bc_aes *a);
static inline int nl_bc_aes_ready(const nl_bc_aes *a)
{
    return a->ctx != 0;
}

/* AES-128-CFB128 over n bytes from in to out (in == out allowed), starting
 * from the fixed IV. decrypt selects the feedback (ciphertext is always fed
 * back). a must be initialised. */
void nl_bc_aes_cfb(const nl_bc_aes *a, const uint8_t *in, uint8_t *out, size_t n, int decrypt);

#endif
