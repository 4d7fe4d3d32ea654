/* Fuzz target: arbitrary bytes through the framer and the codec, the path a
 * hostile camera (or client, for the simulated camera) controls. Every input
 * runs under three codec configurations, fed in chunks whose size comes from
 * the input, with a small body cap so memory stays bounded. Any message that
 * decodes as XML is also parsed, and its Extension fields used. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "bc/codec.h"
#include "bc/frame.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void run(const uint8_t *data, size_t size, uint8_t level, int lenient, int keyed,
                size_t chunk)
{
    nl_bc_codec c;
    if (nl_bc_codec_init(&c, lenient) < 0)
        return;
    nl_bc_xml *x = NULL;
    if (nl_bc_xml_create(&x, NULL) < 0) {
        nl_bc_codec_free(&c);
        return;
    }
    nl_bc_codec_set_level(&c, level);
    if (keyed)
        nl_bc_codec_login_done(&c, "9E6D1FCB9E69846D", "");
    nl_bc_framer f;
    nl_bc_framer_init(&f, 64 * 1024);
    size_t pos = 0;
    int dead = 0;
    while (pos < size && !dead) {
        size_t n = size - pos < chunk ? size - pos : chunk;
        long k = nl_bc_framer_feed(&f, data + pos, n);
        if (k < 0)
            break;
        pos += (size_t)k;
        for (;;) {
            nl_bc_msg m;
            int rc = nl_bc_framer_next(&f, &m);
            if (rc == 0)
                break;
            if (rc < 0) {
                /* Exercise recovery once per error; give up on NL_ETOOBIG. */
                if (nl_bc_framer_resync(&f) < 0)
                    dead = 1;
                if (dead || nl_bc_framer_pending(&f) == 0)
                    break;
                continue;
            }
            if (m.hdr.msg_id == 1 && m.hdr.msg_class == NL_BC_CLASS_LEGACY_REPLY)
                nl_bc_codec_set_level(&c, nl_bc_hdr_enc_level(&m.hdr));
            nl_bc_decoded d;
            if (nl_bc_codec_decode(&c, &m, &d) < 0)
                continue;
            if (!d.binary && d.payload_len) {
                const nl_bc_xml_node *root;
                if (nl_bc_xml_parse(x, d.payload, d.payload_len, &root) == 0) {
                    nl_bc_device_info di;
                    nl_bc_nonce_reply nr;
                    nl_bc_parse_device_info(root, &di);
                    nl_bc_parse_nonce_reply(root, &nr);
                }
            }
        }
        if (k == 0 && nl_bc_framer_pending(&f) == 0)
            break;
    }
    nl_bc_framer_free(&f);
    nl_bc_xml_destroy(&x);
    nl_bc_codec_free(&c);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    size_t chunk = size ? 1 + (size_t)data[size - 1] % 97 : 1;
    run(data, size, NL_BC_ENC_BC, 0, 0, size ? size : 1);
    run(data, size, NL_BC_ENC_FULLAES, 1, 1, chunk);
    run(data, size, NL_BC_ENC_NONE, 1, 0, 7);
    return 0;
}
