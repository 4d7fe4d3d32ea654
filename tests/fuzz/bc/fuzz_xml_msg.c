/* Fuzz target: arbitrary text through the bounded XML parser and every body
 * parser, as a peer's decrypted XML would go. The first byte picks tight or
 * default parser limits so the cap paths are reached too. Whatever a parser
 * accepts is rebuilt with the matching builder, and a successful build must
 * parse again (builders never emit broken XML). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "bc/bodies.h"
#include "bc/xml.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static nl_bc_xml *check_parser;

/* Parses the document a builder just appended at out[start..]. */
static void verify(nl_dbuf *out, size_t start, long n)
{
    const nl_bc_xml_node *r;
    if (n > 0 && nl_bc_xml_parse(check_parser, out->data + start, (size_t)n, &r) != 0)
        abort();
    nl_dbuf_reset(out);
}

#define BUILD(call)                                                                                \
    do {                                                                                           \
        size_t start_ = out->len;                                                                  \
        verify(out, start_, (call));                                                               \
    } while (0)

static void parse_all(const nl_bc_xml_node *r, nl_dbuf *out)
{
    union {
        nl_bc_nonce_reply nonce;
        nl_bc_login login;
        nl_bc_logout logout;
        nl_bc_device_info di;
        nl_bc_stream_info_list sl;
        nl_bc_extension ext;
        nl_bc_preview pv;
        nl_bc_abilities ab;
        nl_bc_version_info vi;
        nl_bc_system_general sg;
        nl_bc_alarm_list al;
        nl_bc_ip_info ip;
        nl_bc_ports ports;
        char word[NL_BC_NAME_MAX];
    } u;
    if (nl_bc_parse_nonce_reply(r, &u.nonce) == 0)
        BUILD(nl_bc_build_nonce_reply(out, u.nonce.nonce));
    if (nl_bc_parse_login(r, &u.login) == 0)
        BUILD(nl_bc_build_login_hashed(out, &u.login));
    if (nl_bc_parse_logout(r, &u.logout) == 0)
        BUILD(nl_bc_build_logout(out, u.logout.user, u.logout.password));
    if (nl_bc_parse_device_info(r, &u.di) == 0)
        BUILD(nl_bc_build_device_info(out, &u.di));
    if (nl_bc_parse_stream_info_list(r, &u.sl) == 0)
        BUILD(nl_bc_build_stream_info_list(out, &u.sl));
    if (nl_bc_parse_extension(r, &u.ext) == 0)
        BUILD(nl_bc_build_extension(out, &u.ext));
    if (nl_bc_parse_preview(r, &u.pv) == 0)
        BUILD(nl_bc_build_preview(out, &u.pv));
    if (nl_bc_parse_ability_reply(r, &u.ab) == 0)
        BUILD(nl_bc_build_ability_reply(out, &u.ab));
    if (nl_bc_parse_version_info(r, &u.vi) == 0)
        BUILD(nl_bc_build_version_info(out, &u.vi));
    if (nl_bc_parse_system_general(r, &u.sg) == 0)
        BUILD(nl_bc_build_system_general(out, &u.sg));
    if (nl_bc_parse_alarm_list(r, &u.al) == 0) {
        nl_bc_alarm_motion(&u.al, 0);
        BUILD(nl_bc_build_alarm_list(out, &u.al));
    }
    if (nl_bc_parse_ip(r, &u.ip) == 0)
        BUILD(nl_bc_build_ip(out, &u.ip));
    if (nl_bc_parse_ports(r, &u.ports) == 0)
        BUILD(nl_bc_build_ports(out, &u.ports));
    if (nl_bc_parse_uid(r, u.word) == 0)
        BUILD(nl_bc_build_uid(out, u.word));
    if (nl_bc_parse_link_type(r, u.word) == 0)
        BUILD(nl_bc_build_link_type(out, u.word));
    long long v;
    nl_bc_xml_find_ll(r, "DeviceInfo/resolution/width", &v);
    nl_bc_xml_find(r, "body/Encryption/nonce");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    nl_bc_xml_limits tight = {.max_input = 4096, .max_depth = 4, .max_nodes = 32, .max_text = 64};
    nl_bc_xml *x = NULL;
    if (nl_bc_xml_create(&x, (data[0] & 1) ? &tight : NULL) < 0)
        return 0;
    if (nl_bc_xml_create(&check_parser, NULL) < 0) {
        nl_bc_xml_destroy(&x);
        return 0;
    }
    nl_dbuf out;
    nl_dbuf_init(&out, 256 * 1024);
    const nl_bc_xml_node *root;
    if (nl_bc_xml_parse(x, data + 1, size - 1, &root) == 0)
        parse_all(root, &out);
    nl_bc_xml_looks_like(data, size);
    nl_dbuf_free(&out);
    nl_bc_xml_destroy(&check_parser);
    nl_bc_xml_destroy(&x);
    return 0;
}
