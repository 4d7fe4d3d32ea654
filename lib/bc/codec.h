/* The per-connection BC message codec, used by both the camera client and the
 * simulated camera. It owns the state that decides how each section of a
 * message is enciphered (sheet §2.4):
 *   - the negotiated level (0x00 none, 0x01 XOR, 0x02/0x03 AES, 0x12 full AES);
 *   - the AES key, known once the login nonce and password are;
 *   - the phase: msg_id 1 is always XOR (or plain at level 0); AES starts with
 *     the first message after the login reply;
 *   - "binary mode" per correlation word, switched on by an Extension with
 *     binaryData=1 and off by binaryData=0.
 * Decoding works in place on a framer message (no copy, no allocation in
 * steady state); encoding appends header + enciphered sections to a buffer.
 *
 * Lenient mode (for the simulated camera, harmless for a client): when a
 * section does not decipher to XML under the expected scheme, the others are
 * tried (AES if a key is set, XOR, plain) before giving up (sheet §10.1).
 *
 * Threads: one codec per connection, used from one thread. Nothing blocks. */
#ifndef NL_BC_CODEC_H
#define NL_BC_CODEC_H

#include <stddef.h>
#include <stdint.h>

#include "bc/bodies.h"
#include "bc/crypto.h"
#include "bc/frame.h"
#include "bc/xml.h"
#include "core/dbuf.h"

/* How one section was (or will be) enciphered. */
enum nl_bc_scheme {
    NL_BC_SCHEME_PLAIN = 0,
    NL_BC_SCHEME_XOR = 1,
    NL_BC_SCHEME_AES = 2,
};

typedef struct nl_bc_codec {
    uint8_t level;  /* negotiated NL_BC_ENC_* */
    uint8_t aes_on; /* AES phase started (level is AES-like and the login is done) */
    uint8_t lenient;
    nl_bc_aes aes; /* key, once known */
    uint32_t bin_corr[NL_BC_BINARY_SLOTS];
    unsigned bin_count, bin_next; /* bin_next: slot replaced when all are taken */
    nl_bc_xml *xml;               /* parses extensions; callers may borrow it */
} nl_bc_codec;

/* Decode flags (nl_bc_decoded.flags). */
#define NL_BC_DEC_FALLBACK       0x01u /* a section needed a scheme other than the expected one */
#define NL_BC_DEC_GUESSED_BINARY 0x02u /* payload was not in binary mode but is not XML either */
#define NL_BC_DEC_PREFIX_AES     0x04u /* binary payload's encryptLen prefix was AES-decrypted */

typedef struct nl_bc_decoded {
    const nl_bc_header *hdr;
    const char *ext_xml; /* deciphered Extension text (not NUL-terminated), or NULL */
    size_t ext_xml_len;
    nl_bc_extension ext; /* its fields; ext.has == 0 without an extension */
    uint8_t *payload;    /* deciphered XML text, or binary bytes */
    size_t payload_len;
    int binary;                         /* payload is binary (media, legacy login body...) */
    uint8_t ext_scheme, payload_scheme; /* enum nl_bc_scheme actually used */
    unsigned flags;                     /* NL_BC_DEC_* */
} nl_bc_decoded;

/* Initialises a codec at level 0 with no key. Creates the extension parser:
 * returns 0 or NL_ENOMEM. */
int nl_bc_codec_init(nl_bc_codec *c, int lenient);
void nl_bc_codec_free(nl_bc_codec *c);
/* Back to the just-initialised state (new connection), keeping the parser. */
void nl_bc_codec_reset(nl_bc_codec *c);

/* Sets the negotiated level: the level byte of the camera's 0x6614 reply
 * (client) or the level chosen for it (simulated camera). 0x03 counts as
 * AES. Unknown values are NL_EPROTO. */
int nl_bc_codec_set_level(nl_bc_codec *c, uint8_t level);

/* Derives and installs the AES key from the login nonce and password, and
 * starts the AES phase when the level is AES-like. Call it exactly when the
 * successful login reply has been received (client) or sent (camera): every
 * later message uses AES. The key is installed at every level, so a lenient
 * codec can still read peers that use AES regardless (reolink_aio).
 * Returns 0 or NL_ENOMEM. */
int nl_bc_codec_login_done(nl_bc_codec *c, const char *nonce, const char *password);

/* Scheme used for the XML sections of a message with this header. */
int nl_bc_codec_scheme(const nl_bc_codec *c, const nl_bc_header *h);

/* Binary-mode state per correlation word. At most NL_BC_BINARY_SLOTS words
 * are tracked; beyond that the oldest entry is forgotten. */
void nl_bc_codec_set_binary(nl_bc_codec *c, uint32_t corr, int on);
int nl_bc_codec_is_binary(const nl_bc_codec *c, uint32_t corr);

/* Deciphers the sections of m in place and fills *d (pointing into m).
 * The Extension is parsed and its binaryData applied before the payload is
 * classified. Binary payloads are left as they are, except that when the
 * Extension has encryptLen and a key is known, the first encryptLen bytes are
 * AES-decrypted and the rest kept (reolink_aio semantics, sheet §2.5).
 * Class 0x6514 bodies (legacy login) are returned as binary, untouched.
 * Errors: NL_ECRYPTO the Extension does not decipher to XML; NL_EXML /
 * NL_ELIMIT / NL_EPROTO / NL_ERANGE it is not a valid Extension; NL_ENOMEM. */
int nl_bc_codec_decode(nl_bc_codec *c, nl_bc_msg *m, nl_bc_decoded *d);

/* Options of nl_bc_codec_encode. */
#define NL_BC_OUT_BINARY 0x01u /* payload is binary: not enciphered (but see aes_prefix) */

/* Appends one message to out: the header (body_len and, for 24-byte classes,
 * payload_offset = ext_len filled in; lengths count enciphered bytes, which
 * equal plaintext bytes) followed by ext and payload, each enciphered from a
 * fresh start under nl_bc_codec_scheme. With NL_BC_OUT_BINARY the payload
 * is copied raw, except its first aes_prefix bytes which are AES-encrypted
 * (full-AES media: pair it with an Extension carrying encryptLen).
 * Returns the bytes appended, NL_EINVAL (extension on a 20-byte class, or a
 * body over 4 GiB), NL_ESTATE (aes_prefix without a key), NL_ETOOBIG (out's
 * cap) or NL_ENOMEM; on error out is unchanged. */
long nl_bc_codec_encode(nl_bc_codec *c, const nl_bc_header *h, const void *ext, size_t ext_len,
                        const void *payload, size_t payload_len, unsigned opts, size_t aes_prefix,
                        nl_dbuf *out);

#endif
