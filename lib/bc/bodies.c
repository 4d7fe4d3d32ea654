/* Builders and parsers of BC message bodies. Builders write the exact camera
 * style (one element per line, version="1.1" on top-level elements); on any
 * error they roll the output buffer back to where it was, so a failed build
 * never leaves half a document behind. */
#include <stdio.h>
#include <string.h>

#include "bc/bodies.h"
#include "bc/crypto.h"
#include "neolink/error.h"

/* ------------------------------------------------------------------ helpers */

static long finish(nl_bc_xmlw *w)
{
    long rc = nl_bc_xmlw_finish(w);
    if (rc < 0)
        w->out->len = w->start;
    return rc;
}

/* Opens "<?xml ...?>\n<body>\n<name version="1.1">\n". */
static void begin_body(nl_bc_xmlw *w, nl_dbuf *out, const char *name)
{
    nl_bc_xmlw_init(w, out);
    nl_bc_xmlw_decl(w);
    nl_bc_xmlw_open(w, "body", 0);
    nl_bc_xmlw_open(w, name, 1);
}

static long end_body(nl_bc_xmlw *w, const char *name)
{
    nl_bc_xmlw_close(w, name);
    nl_bc_xmlw_close(w, "body");
    return finish(w);
}

/* Required string: NL_EPROTO when absent, NL_ERANGE when too long. */
static int req_str(const nl_bc_xml_node *r, const char *path, char *dst, size_t n)
{
    int rc = nl_bc_xml_find_copy(r, path, dst, n);
    if (rc == NL_ENOENT)
        return NL_EPROTO;
    return rc < 0 ? rc : 0;
}

/* Optional string: absent leaves "", an over-long value is cut. */
static void opt_str(const nl_bc_xml_node *r, const char *path, char *dst, size_t n)
{
    (void)nl_bc_xml_find_copy(r, path, dst, n);
}

static int req_int(const nl_bc_xml_node *r, const char *path, long long lo, long long hi,
                   int64_t *out)
{
    int rc = nl_bc_xml_find_int(r, path, lo, hi, out);
    return rc == NL_ENOENT ? NL_EPROTO : rc;
}

static int req_u32(const nl_bc_xml_node *r, const char *path, uint32_t *out)
{
    int64_t v;
    int rc = req_int(r, path, 0, UINT32_MAX, &v);
    if (rc == 0)
        *out = (uint32_t)v;
    return rc;
}

static int req_i32(const nl_bc_xml_node *r, const char *path, int32_t *out)
{
    int64_t v;
    int rc = req_int(r, path, INT32_MIN, INT32_MAX, &v);
    if (rc == 0)
        *out = (int32_t)v;
    return rc;
}

/* Optional numbers: absent or malformed leave the default untouched. */
static void opt_u32(const nl_bc_xml_node *r, const char *path, uint32_t *out)
{
    (void)req_u32(r, path, out);
}

static void opt_i32(const nl_bc_xml_node *r, const char *path, int32_t *out)
{
    (void)req_i32(r, path, out);
}

/* Copies a C string into a fixed field, always terminated; NL_ERANGE if cut. */
static int copy_str(char *dst, size_t n, const char *src)
{
    size_t len = src ? strlen(src) : 0;
    size_t k = len < n - 1 ? len : n - 1;
    if (k)
        memcpy(dst, src, k);
    dst[k] = '\0';
    return k < len ? NL_ERANGE : 0;
}

/* ------------------------------------------------------------------ Encryption */

long nl_bc_build_nonce_reply(nl_dbuf *out, const char *nonce)
{
    nl_bc_xmlw w;
    begin_body(&w, out, "Encryption");
    nl_bc_xmlw_text(&w, "type", "md5");
    nl_bc_xmlw_text(&w, "nonce", nonce);
    return end_body(&w, "Encryption");
}

int nl_bc_parse_nonce_reply(const nl_bc_xml_node *root, nl_bc_nonce_reply *out)
{
    memset(out, 0, sizeof *out);
    opt_str(root, "Encryption/type", out->type, sizeof out->type);
    int rc = req_str(root, "Encryption/nonce", out->nonce, sizeof out->nonce);
    if (rc == 0 && !out->nonce[0])
        rc = NL_EPROTO;
    return rc;
}

/* ------------------------------------------------------------------ Login */

long nl_bc_build_login_hashed(nl_dbuf *out, const nl_bc_login *l)
{
    nl_bc_xmlw w;
    begin_body(&w, out, "LoginUser");
    nl_bc_xmlw_text(&w, "userName", l->user_hash);
    nl_bc_xmlw_text(&w, "password", l->pass_hash);
    nl_bc_xmlw_int(&w, "userVer", l->user_ver);
    nl_bc_xmlw_close(&w, "LoginUser");
    nl_bc_xmlw_open(&w, "LoginNet", 1);
    nl_bc_xmlw_text(&w, "type", l->net_type[0] ? l->net_type : "LAN");
    nl_bc_xmlw_int(&w, "udpPort", l->udp_port);
    return end_body(&w, "LoginNet");
}

long nl_bc_build_login(nl_dbuf *out, const char *user, const char *password, const char *nonce)
{
    nl_bc_login l;
    memset(&l, 0, sizeof l);
    int rc = nl_bc_login_hash(user, nonce, l.user_hash);
    if (rc == 0)
        rc = nl_bc_login_hash(password, nonce, l.pass_hash);
    if (rc < 0)
        return rc;
    l.user_ver = 1;
    return nl_bc_build_login_hashed(out, &l);
}

int nl_bc_parse_login(const nl_bc_xml_node *root, nl_bc_login *out)
{
    memset(out, 0, sizeof *out);
    int rc = req_str(root, "LoginUser/userName", out->user_hash, sizeof out->user_hash);
    if (rc == 0)
        rc = req_str(root, "LoginUser/password", out->pass_hash, sizeof out->pass_hash);
    if (rc < 0)
        return rc;
    opt_i32(root, "LoginUser/userVer", &out->user_ver);
    opt_str(root, "LoginNet/type", out->net_type, sizeof out->net_type);
    opt_i32(root, "LoginNet/udpPort", &out->udp_port);
    return 0;
}

/* Compares two NUL-terminated strings without an early exit on the first
 * difference, so response time does not reveal how much of a hash matched. */
static int ct_streq(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    unsigned diff = (unsigned)(la ^ lb);
    size_t n = la < lb ? la : lb;
    for (size_t i = 0; i < n; i++)
        diff |= (unsigned)(a[i] ^ b[i]);
    return diff == 0;
}

int nl_bc_login_check(const nl_bc_login *l, const char *user, const char *password,
                      const char *nonce)
{
    char uh[NL_BC_HASH_LEN + 1], ph[NL_BC_HASH_LEN + 1];
    int rc = nl_bc_login_hash(user, nonce, uh);
    if (rc == 0)
        rc = nl_bc_login_hash(password, nonce, ph);
    if (rc < 0)
        return rc;
    int ok = ct_streq(uh, l->user_hash) & ct_streq(ph, l->pass_hash);
    return ok ? 0 : NL_EAUTH;
}

int nl_bc_login_reply_result(const nl_bc_header *h)
{
    if (h->response_code != NL_BC_RESP_OK || h->body_len == 0)
        return NL_EAUTH;
    return 0;
}

long nl_bc_build_legacy_login(nl_dbuf *out, const char *user, const char *password)
{
    uint8_t uf[NL_BC_LEGACY_FIELD_LEN], pf[NL_BC_LEGACY_FIELD_LEN];
    int rc = nl_bc_legacy_field(user, uf);
    if (rc == 0)
        rc = nl_bc_legacy_field(password, pf);
    if (rc < 0)
        return rc;
    uint8_t *p = nl_dbuf_reserve(out, NL_BC_LEGACY_LOGIN_LEN);
    if (!p)
        return nl_dbuf_room(out) < NL_BC_LEGACY_LOGIN_LEN ? NL_ETOOBIG : NL_ENOMEM;
    memset(p, 0, NL_BC_LEGACY_LOGIN_LEN);
    memcpy(p, uf, sizeof uf);
    memcpy(p + sizeof uf, pf, sizeof pf);
    nl_dbuf_commit(out, NL_BC_LEGACY_LOGIN_LEN);
    return NL_BC_LEGACY_LOGIN_LEN;
}

int nl_bc_parse_legacy_login(const uint8_t *p, size_t n, nl_bc_legacy_login *out)
{
    if (n != NL_BC_LEGACY_LOGIN_LEN)
        return NL_EPROTO;
    memcpy(out->user, p, sizeof out->user);
    memcpy(out->pass, p + sizeof out->user, sizeof out->pass);
    return 0;
}

long nl_bc_build_logout(nl_dbuf *out, const char *user, const char *password)
{
    nl_bc_xmlw w;
    begin_body(&w, out, "LoginUser");
    nl_bc_xmlw_text(&w, "userName", user);
    nl_bc_xmlw_text(&w, "password", password);
    nl_bc_xmlw_int(&w, "userVer", 1);
    nl_bc_xmlw_close(&w, "LoginUser");
    nl_bc_xmlw_open(&w, "LoginNet", 1);
    nl_bc_xmlw_text(&w, "type", "LAN");
    nl_bc_xmlw_int(&w, "udpPort", 0);
    return end_body(&w, "LoginNet");
}

int nl_bc_parse_logout(const nl_bc_xml_node *root, nl_bc_logout *out)
{
    memset(out, 0, sizeof *out);
    int rc = req_str(root, "LoginUser/userName", out->user, sizeof out->user);
    if (rc < 0)
        return rc;
    opt_str(root, "LoginUser/password", out->password, sizeof out->password);
    return 0;
}

/* ------------------------------------------------------------------ DeviceInfo */

static void write_stream_list(nl_bc_xmlw *w, const nl_bc_stream_info_list *l)
{
    nl_bc_xmlw_open(w, "StreamInfoList", 1);
    for (unsigned i = 0; i < l->count && i < NL_BC_ENCODE_MAX;) {
        unsigned idx = l->t[i].info_index;
        nl_bc_xmlw_open(w, "StreamInfo", 0);
        nl_bc_xmlw_int(w, "channelBits", l->t[i].channel_bits);
        for (; i < l->count && i < NL_BC_ENCODE_MAX && l->t[i].info_index == idx; i++) {
            const nl_bc_encode_table *t = &l->t[i];
            nl_bc_xmlw_open(w, "encodeTable", 0);
            nl_bc_xmlw_text(w, "type", t->type);
            nl_bc_xmlw_open(w, "resolution", 0);
            nl_bc_xmlw_int(w, "width", t->width);
            nl_bc_xmlw_int(w, "height", t->height);
            nl_bc_xmlw_close(w, "resolution");
            nl_bc_xmlw_int(w, "defaultFramerate", t->framerate);
            nl_bc_xmlw_int(w, "defaultBitrate", t->bitrate);
            /* A camera lists every selectable value; the default alone is a
             * valid one-entry table. */
            nl_bc_xmlw_int(w, "framerateTable", t->framerate);
            nl_bc_xmlw_int(w, "bitrateTable", t->bitrate);
            nl_bc_xmlw_close(w, "encodeTable");
        }
        nl_bc_xmlw_close(w, "StreamInfo");
    }
    nl_bc_xmlw_close(w, "StreamInfoList");
}

long nl_bc_build_device_info(nl_dbuf *out, const nl_bc_device_info *d)
{
    nl_bc_xmlw w;
    begin_body(&w, out, "DeviceInfo");
    /* Field order and the fixed values follow a real camera's reply. */
    nl_bc_xmlw_text(&w, "firmVersion", d->firm_version);
    nl_bc_xmlw_int(&w, "IOInputPortNum", 0);
    nl_bc_xmlw_int(&w, "IOOutputPortNum", 0);
    nl_bc_xmlw_int(&w, "diskNum", 0);
    nl_bc_xmlw_text(&w, "type", d->type);
    nl_bc_xmlw_int(&w, "channelNum", d->channel_num);
    nl_bc_xmlw_int(&w, "audioNum", d->audio_num);
    nl_bc_xmlw_int(&w, "ipChannel", 0);
    nl_bc_xmlw_int(&w, "analogChnNum", d->channel_num);
    if (d->width && d->height) {
        char rn[NL_BC_WORD_MAX];
        const char *name = d->resolution_name;
        if (!name[0]) {
            snprintf(rn, sizeof rn, "%u*%u", (unsigned)d->width, (unsigned)d->height);
            name = rn; /* "W*H", as cameras spell it */
        }
        nl_bc_xmlw_open(&w, "resolution", 0);
        nl_bc_xmlw_text(&w, "resolutionName", name);
        nl_bc_xmlw_int(&w, "width", d->width);
        nl_bc_xmlw_int(&w, "height", d->height);
        nl_bc_xmlw_close(&w, "resolution");
    }
    nl_bc_xmlw_text(&w, "language", d->language[0] ? d->language : "English");
    nl_bc_xmlw_int(&w, "sdCard", 0);
    nl_bc_xmlw_text(&w, "ptzMode", "none");
    nl_bc_xmlw_text(&w, "typeInfo", d->type_info[0] ? d->type_info : "IPC");
    nl_bc_xmlw_text(&w, "norm", d->norm[0] ? d->norm : "NTSC");
    nl_bc_xmlw_text(&w, "osdFormat", "YMD");
    nl_bc_xmlw_int(&w, "userVer", 1);
    nl_bc_xmlw_close(&w, "DeviceInfo");
    if (d->streams.count)
        write_stream_list(&w, &d->streams);
    nl_bc_xmlw_close(&w, "body");
    return finish(&w);
}

static int parse_streams(const nl_bc_xml_node *list, nl_bc_stream_info_list *out)
{
    memset(out, 0, sizeof *out);
    unsigned idx = 0;
    for (const nl_bc_xml_node *si = nl_bc_xml_child(list, "StreamInfo"); si;
         si = nl_bc_xml_next_same(si), idx++) {
        uint32_t bits = 0;
        opt_u32(si, "channelBits", &bits);
        for (const nl_bc_xml_node *et = nl_bc_xml_child(si, "encodeTable"); et;
             et = nl_bc_xml_next_same(et)) {
            if (out->count == NL_BC_ENCODE_MAX)
                return 0;
            nl_bc_encode_table *t = &out->t[out->count];
            memset(t, 0, sizeof *t);
            t->info_index = (uint8_t)(idx > 255 ? 255 : idx);
            t->channel_bits = bits;
            int rc = req_str(et, "type", t->type, sizeof t->type);
            if (rc == 0)
                rc = req_u32(et, "resolution/width", &t->width);
            if (rc == 0)
                rc = req_u32(et, "resolution/height", &t->height);
            if (rc < 0)
                return rc;
            opt_u32(et, "defaultFramerate", &t->framerate);
            opt_u32(et, "defaultBitrate", &t->bitrate);
            out->count++;
        }
    }
    return 0;
}

int nl_bc_parse_device_info(const nl_bc_xml_node *root, nl_bc_device_info *out)
{
    memset(out, 0, sizeof *out);
    const nl_bc_xml_node *di = nl_bc_xml_find_node(root, "DeviceInfo");
    if (!di)
        return NL_EPROTO;
    int rc = req_str(di, "type", out->type, sizeof out->type);
    if (rc < 0)
        return rc;
    opt_str(di, "typeInfo", out->type_info, sizeof out->type_info);
    opt_str(di, "firmVersion", out->firm_version, sizeof out->firm_version);
    opt_str(di, "resolution/resolutionName", out->resolution_name, sizeof out->resolution_name);
    opt_str(di, "norm", out->norm, sizeof out->norm);
    opt_str(di, "language", out->language, sizeof out->language);
    opt_u32(di, "channelNum", &out->channel_num);
    opt_u32(di, "audioNum", &out->audio_num);
    opt_u32(di, "resolution/width", &out->width);
    opt_u32(di, "resolution/height", &out->height);
    /* StreamInfoList is optional in the login reply; a broken one is ignored
     * there rather than failing the login. */
    const nl_bc_xml_node *sl = nl_bc_xml_find_node(root, "StreamInfoList");
    if (sl && parse_streams(sl, &out->streams) < 0)
        memset(&out->streams, 0, sizeof out->streams);
    return 0;
}

void nl_bc_device_info_default(nl_bc_device_info *d, uint32_t main_w, uint32_t main_h,
                               uint32_t sub_w, uint32_t sub_h, uint32_t fps)
{
    memset(d, 0, sizeof *d);
    copy_str(d->type, sizeof d->type, "ipc");
    copy_str(d->type_info, sizeof d->type_info, "IPC");
    copy_str(d->firm_version, sizeof d->firm_version, "00000000000000");
    copy_str(d->norm, sizeof d->norm, "NTSC");
    copy_str(d->language, sizeof d->language, "English");
    d->channel_num = 1;
    d->audio_num = 1;
    d->width = main_w;
    d->height = main_h;
    nl_bc_encode_table *t = d->streams.t;
    copy_str(t[0].type, sizeof t[0].type, "mainStream");
    t[0].width = main_w, t[0].height = main_h, t[0].framerate = fps, t[0].bitrate = 4096;
    copy_str(t[1].type, sizeof t[1].type, "subStream");
    t[1].width = sub_w, t[1].height = sub_h, t[1].framerate = fps, t[1].bitrate = 512;
    t[0].channel_bits = t[1].channel_bits = 1;
    d->streams.count = 2;
}

long nl_bc_build_stream_info_list(nl_dbuf *out, const nl_bc_stream_info_list *l)
{
    nl_bc_xmlw w;
    nl_bc_xmlw_init(&w, out);
    nl_bc_xmlw_decl(&w);
    nl_bc_xmlw_open(&w, "body", 0);
    write_stream_list(&w, l);
    nl_bc_xmlw_close(&w, "body");
    return finish(&w);
}

int nl_bc_parse_stream_info_list(const nl_bc_xml_node *root, nl_bc_stream_info_list *out)
{
    memset(out, 0, sizeof *out);
    const nl_bc_xml_node *sl = nl_bc_xml_find_node(root, "StreamInfoList");
    return sl ? parse_streams(sl, out) : NL_EPROTO;
}

/* ------------------------------------------------------------------ Extension */

long nl_bc_build_extension(nl_dbuf *out, const nl_bc_extension *e)
{
    nl_bc_xmlw w;
    nl_bc_xmlw_init(&w, out);
    nl_bc_xmlw_decl(&w);
    nl_bc_xmlw_open(&w, "Extension", 1);
    if (e->has & NL_BC_EXT_ENCRYPT_LEN)
        nl_bc_xmlw_int(&w, "encryptLen", e->encrypt_len);
    if (e->has & NL_BC_EXT_BINARY)
        nl_bc_xmlw_int(&w, "binaryData", e->binary_data);
    if (e->has & NL_BC_EXT_CHECK_POS)
        nl_bc_xmlw_int(&w, "checkPos", e->check_pos);
    if (e->has & NL_BC_EXT_CHECK_VALUE)
        nl_bc_xmlw_int(&w, "checkValue", e->check_value);
    if (e->has & NL_BC_EXT_USER)
        nl_bc_xmlw_text(&w, "userName", e->user_name);
    if (e->has & NL_BC_EXT_TOKEN)
        nl_bc_xmlw_text(&w, "token", e->token);
    if (e->has & NL_BC_EXT_CHANNEL)
        nl_bc_xmlw_int(&w, "channelId", e->channel_id);
    if (e->has & NL_BC_EXT_RF_ID)
        nl_bc_xmlw_int(&w, "rfId", e->rf_id);
    nl_bc_xmlw_close(&w, "Extension");
    return finish(&w);
}

long nl_bc_build_ext_channel(nl_dbuf *out, uint32_t channel_id)
{
    nl_bc_extension e = {.has = NL_BC_EXT_CHANNEL, .channel_id = channel_id};
    return nl_bc_build_extension(out, &e);
}

long nl_bc_build_ext_binary(nl_dbuf *out, int on)
{
    nl_bc_extension e = {.has = NL_BC_EXT_BINARY, .binary_data = on ? 1 : 0};
    return nl_bc_build_extension(out, &e);
}

static int ascii_ieq(const char *a, const char *b)
{
    for (; *a && *b; a++, b++) {
        char ca = (*a >= 'A' && *a <= 'Z') ? (char)(*a + 32) : *a;
        char cb = (*b >= 'A' && *b <= 'Z') ? (char)(*b + 32) : *b;
        if (ca != cb)
            return 0;
    }
    return *a == *b;
}

int nl_bc_parse_extension(const nl_bc_xml_node *root, nl_bc_extension *out)
{
    memset(out, 0, sizeof *out);
    if (strcmp(root->name, "Extension") != 0)
        return NL_EPROTO;
    for (const nl_bc_xml_node *c = root->child; c; c = c->next) {
        int64_t v;
        int rc = 0;
        if (strcmp(c->name, "channelId") == 0) {
            rc = req_int(c, "", 0, UINT32_MAX, &v);
            out->channel_id = (uint32_t)v;
            out->has |= NL_BC_EXT_CHANNEL;
        } else if (strcmp(c->name, "binaryData") == 0) {
            rc = req_int(c, "", 0, 1, &v);
            out->binary_data = (uint32_t)v;
            out->has |= NL_BC_EXT_BINARY;
        } else if (ascii_ieq(c->name, "encryptLen")) {
            rc = req_int(c, "", 0, UINT32_MAX, &v);
            out->encrypt_len = (uint32_t)v;
            out->has |= NL_BC_EXT_ENCRYPT_LEN;
        } else if (strcmp(c->name, "checkPos") == 0) {
            rc = req_int(c, "", INT32_MIN, UINT32_MAX, &v);
            out->check_pos = v;
            out->has |= NL_BC_EXT_CHECK_POS;
        } else if (strcmp(c->name, "checkValue") == 0) {
            rc = req_int(c, "", INT32_MIN, UINT32_MAX, &v);
            out->check_value = v;
            out->has |= NL_BC_EXT_CHECK_VALUE;
        } else if (strcmp(c->name, "rfId") == 0) {
            rc = req_int(c, "", INT32_MIN, UINT32_MAX, &v);
            out->rf_id = v;
            out->has |= NL_BC_EXT_RF_ID;
        } else if (strcmp(c->name, "userName") == 0) {
            rc = copy_str(out->user_name, sizeof out->user_name, c->text);
            out->has |= NL_BC_EXT_USER;
        } else if (strcmp(c->name, "token") == 0) {
            rc = copy_str(out->token, sizeof out->token, c->text);
            out->has |= NL_BC_EXT_TOKEN;
        }
        /* Unknown fields are ignored: cameras add new ones over time. */
        if (rc < 0)
            return rc;
    }
    return 0;
}

/* ------------------------------------------------------------------ Preview */

static const char *const stream_names[] = {"mainStream", "subStream", "externStream"};

const char *nl_bc_stream_name(int kind)
{
    return kind >= 0 && kind <= NL_BC_STREAM_EXTERN ? stream_names[kind] : NULL;
}

int nl_bc_stream_parse(const char *name)
{
    for (int i = 0; i <= NL_BC_STREAM_EXTERN; i++)
        if (name && strcmp(name, stream_names[i]) == 0)
            return i;
    return NL_EINVAL;
}

uint32_t nl_bc_stream_handle(int kind)
{
    return kind == NL_BC_STREAM_SUB ? 256 : kind == NL_BC_STREAM_EXTERN ? 1024 : 0;
}

uint8_t nl_bc_stream_byte13(int kind)
{
    return kind == NL_BC_STREAM_SUB ? 1 : 0;
}

long nl_bc_build_preview(nl_dbuf *out, const nl_bc_preview *p)
{
    const char *st = nl_bc_stream_name(p->stream);
    if (p->stream != NL_BC_STREAM_NONE && !st)
        return NL_EINVAL;
    nl_bc_xmlw w;
    begin_body(&w, out, "Preview");
    nl_bc_xmlw_int(&w, "channelId", p->channel_id);
    nl_bc_xmlw_int(&w, "handle", p->handle);
    if (st)
        nl_bc_xmlw_text(&w, "streamType", st);
    return end_body(&w, "Preview");
}

int nl_bc_parse_preview(const nl_bc_xml_node *root, nl_bc_preview *out)
{
    memset(out, 0, sizeof *out);
    out->stream = NL_BC_STREAM_NONE;
    const nl_bc_xml_node *pv = nl_bc_xml_find_node(root, "Preview");
    if (!pv)
        return NL_EPROTO;
    int rc = req_u32(pv, "channelId", &out->channel_id);
    if (rc == 0)
        rc = req_u32(pv, "handle", &out->handle);
    if (rc < 0)
        return rc;
    const char *st = nl_bc_xml_find(pv, "streamType");
    if (st) {
        int k = nl_bc_stream_parse(st);
        if (k < 0)
            return NL_EPROTO;
        out->stream = k;
    }
    return 0;
}

/* ------------------------------------------------------------------ AbilityInfo */

/* The token list the Rust client sends with 151 (sheet §3.1 step 7). */
static const char ability_token[] =
    "system, streaming, PTZ, IO, security, replay, disk,  network, alarm, record, video, image";

static const struct {
    const char *name;
    uint32_t bit;
    const char *section; /* where a built reply lists it */
} abil_table[] = {
    {"general", NL_BC_ABIL_GENERAL, "system"},
    {"version", NL_BC_ABIL_VERSION, "system"},
    {"uid", NL_BC_ABIL_UID, "system"},
    {"reboot", NL_BC_ABIL_REBOOT, "system"},
    {"preview", NL_BC_ABIL_PREVIEW, "streaming"},
    {"streamTable", NL_BC_ABIL_STREAM_TABLE, "streaming"},
    {"motion", NL_BC_ABIL_MOTION, "alarm"},
    {"rfAlarm", NL_BC_ABIL_RF_ALARM, "alarm"},
    {"ledState", NL_BC_ABIL_LED_STATE, "image"},
    {"control", NL_BC_ABIL_PTZ_CONTROL, "PTZ"},
};
#define ABIL_COUNT (sizeof abil_table / sizeof abil_table[0])

long nl_bc_build_ability_request(nl_dbuf *out, const char *user)
{
    nl_bc_extension e;
    memset(&e, 0, sizeof e);
    e.has = NL_BC_EXT_USER | NL_BC_EXT_TOKEN;
    if (copy_str(e.user_name, sizeof e.user_name, user) < 0)
        return NL_EINVAL;
    copy_str(e.token, sizeof e.token, ability_token);
    return nl_bc_build_extension(out, &e);
}

long nl_bc_build_ability_reply(nl_dbuf *out, const nl_bc_abilities *a)
{
    static const char *const sections[] = {"system", "streaming", "alarm", "image", "PTZ"};
    nl_bc_xmlw w;
    begin_body(&w, out, "AbilityInfo");
    nl_bc_xmlw_text(&w, "userName", a->user_name);
    for (size_t s = 0; s < sizeof sections / sizeof sections[0]; s++) {
        char list[256];
        size_t len = 0;
        list[0] = '\0';
        for (size_t i = 0; i < ABIL_COUNT; i++) {
            if (strcmp(abil_table[i].section, sections[s]) != 0)
                continue;
            const char *mode = (a->rw & abil_table[i].bit)   ? "_rw"
                               : (a->ro & abil_table[i].bit) ? "_ro"
                                                             : NULL;
            if (!mode)
                continue;
            /* Bounded: ten short names fit 256 bytes with room to spare. */
            len += (size_t)snprintf(list + len, sizeof list - len, "%s%s%s", len ? ", " : "",
                                    abil_table[i].name, mode);
        }
        if (!len)
            continue;
        nl_bc_xmlw_open(&w, sections[s], 0);
        nl_bc_xmlw_open(&w, "subModule", 0);
        if (s != 0) /* system abilities are device-wide */
            nl_bc_xmlw_int(&w, "channelId", 0);
        nl_bc_xmlw_text(&w, "abilityValue", list);
        nl_bc_xmlw_close(&w, "subModule");
        nl_bc_xmlw_close(&w, sections[s]);
    }
    return end_body(&w, "AbilityInfo");
}

/* Records one "name_rw" / "name_ro" item (len bytes at s, already trimmed). */
static void ability_item(nl_bc_abilities *a, const char *s, size_t len)
{
    if (len < 4 || s[len - 3] != '_')
        return;
    int rw = s[len - 2] == 'r' && s[len - 1] == 'w';
    int ro = s[len - 2] == 'r' && s[len - 1] == 'o';
    if (!rw && !ro)
        return;
    size_t nlen = len - 3;
    for (size_t i = 0; i < ABIL_COUNT; i++) {
        if (strlen(abil_table[i].name) == nlen && memcmp(abil_table[i].name, s, nlen) == 0) {
            if (rw)
                a->rw |= abil_table[i].bit;
            else
                a->ro |= abil_table[i].bit;
        }
    }
}

static void ability_list(nl_bc_abilities *a, const char *s)
{
    while (*s) {
        while (*s == ' ' || *s == ',' || *s == '\t' || *s == '\n')
            s++;
        const char *e = s;
        while (*e && *e != ',')
            e++;
        const char *t = e;
        while (t > s && (t[-1] == ' ' || t[-1] == '\t' || t[-1] == '\n'))
            t--;
        if (t > s)
            ability_item(a, s, (size_t)(t - s));
        s = e;
    }
}

int nl_bc_parse_ability_reply(const nl_bc_xml_node *root, nl_bc_abilities *out)
{
    memset(out, 0, sizeof *out);
    const nl_bc_xml_node *ai = nl_bc_xml_find_node(root, "AbilityInfo");
    if (!ai)
        return NL_EPROTO;
    opt_str(ai, "userName", out->user_name, sizeof out->user_name);
    /* Depth-first walk of the subtree without recursion. */
    const nl_bc_xml_node *n = ai->child;
    while (n) {
        if (strcmp(n->name, "abilityValue") == 0)
            ability_list(out, n->text);
        if (n->child) {
            n = n->child;
            continue;
        }
        while (n && !n->next && n != ai)
            n = n->parent;
        if (!n || n == ai)
            break;
        n = n->next;
    }
    return 0;
}

/* ------------------------------------------------------------------ small replies */

long nl_bc_build_link_type(nl_dbuf *out, const char *type)
{
    nl_bc_xmlw w;
    begin_body(&w, out, "LinkType");
    nl_bc_xmlw_text(&w, "type", type ? type : "LAN");
    return end_body(&w, "LinkType");
}

int nl_bc_parse_link_type(const nl_bc_xml_node *root, char type[NL_BC_WORD_MAX])
{
    return req_str(root, "LinkType/type", type, NL_BC_WORD_MAX);
}

long nl_bc_build_version_info(nl_dbuf *out, const nl_bc_version_info *v)
{
    nl_bc_xmlw w;
    begin_body(&w, out, "VersionInfo");
    nl_bc_xmlw_text(&w, "name", v->name);
    nl_bc_xmlw_text(&w, "type", v->type);
    nl_bc_xmlw_text(&w, "serialNumber", v->serial);
    nl_bc_xmlw_text(&w, "buildDay", v->build_day);
    nl_bc_xmlw_text(&w, "hardwareVersion", v->hardware_version);
    nl_bc_xmlw_text(&w, "cfgVersion", v->cfg_version);
    nl_bc_xmlw_text(&w, "firmwareVersion", v->firmware_version);
    nl_bc_xmlw_text(&w, "detail", v->detail);
    return end_body(&w, "VersionInfo");
}

int nl_bc_parse_version_info(const nl_bc_xml_node *root, nl_bc_version_info *out)
{
    memset(out, 0, sizeof *out);
    const nl_bc_xml_node *vi = nl_bc_xml_find_node(root, "VersionInfo");
    if (!vi)
        return NL_EPROTO;
    int rc = req_str(vi, "name", out->name, sizeof out->name);
    if (rc < 0)
        return rc;
    opt_str(vi, "type", out->type, sizeof out->type);
    opt_str(vi, "serialNumber", out->serial, sizeof out->serial);
    opt_str(vi, "buildDay", out->build_day, sizeof out->build_day);
    opt_str(vi, "hardwareVersion", out->hardware_version, sizeof out->hardware_version);
    opt_str(vi, "cfgVersion", out->cfg_version, sizeof out->cfg_version);
    opt_str(vi, "firmwareVersion", out->firmware_version, sizeof out->firmware_version);
    opt_str(vi, "detail", out->detail, sizeof out->detail);
    return 0;
}

long nl_bc_build_system_general(nl_dbuf *out, const nl_bc_system_general *g)
{
    nl_bc_xmlw w;
    begin_body(&w, out, "SystemGeneral");
    nl_bc_xmlw_int(&w, "timeZone", g->time_zone);
    nl_bc_xmlw_int(&w, "year", g->year);
    nl_bc_xmlw_int(&w, "month", g->month);
    nl_bc_xmlw_int(&w, "day", g->day);
    nl_bc_xmlw_int(&w, "hour", g->hour);
    nl_bc_xmlw_int(&w, "minute", g->minute);
    nl_bc_xmlw_int(&w, "second", g->second);
    nl_bc_xmlw_text(&w, "osdFormat", g->osd_format[0] ? g->osd_format : "YMD");
    nl_bc_xmlw_int(&w, "timeFormat", g->time_format);
    nl_bc_xmlw_text(&w, "language", g->language[0] ? g->language : "English");
    nl_bc_xmlw_text(&w, "deviceName", g->device_name);
    return end_body(&w, "SystemGeneral");
}

int nl_bc_parse_system_general(const nl_bc_xml_node *root, nl_bc_system_general *out)
{
    static const struct {
        const char *name;
        size_t off;
    } req[] = {
        {"year", offsetof(nl_bc_system_general, year)},
        {"month", offsetof(nl_bc_system_general, month)},
        {"day", offsetof(nl_bc_system_general, day)},
        {"hour", offsetof(nl_bc_system_general, hour)},
        {"minute", offsetof(nl_bc_system_general, minute)},
        {"second", offsetof(nl_bc_system_general, second)},
    };
    memset(out, 0, sizeof *out);
    const nl_bc_xml_node *sg = nl_bc_xml_find_node(root, "SystemGeneral");
    if (!sg)
        return NL_EPROTO;
    for (size_t i = 0; i < sizeof req / sizeof req[0]; i++) {
        int rc = req_i32(sg, req[i].name, (int32_t *)((char *)out + req[i].off));
        if (rc < 0)
            return rc;
    }
    opt_i32(sg, "timeZone", &out->time_zone);
    opt_i32(sg, "timeFormat", &out->time_format);
    opt_str(sg, "osdFormat", out->osd_format, sizeof out->osd_format);
    opt_str(sg, "language", out->language, sizeof out->language);
    opt_str(sg, "deviceName", out->device_name, sizeof out->device_name);
    return 0;
}

long nl_bc_build_alarm_list(nl_dbuf *out, const nl_bc_alarm_list *l)
{
    nl_bc_xmlw w;
    begin_body(&w, out, "AlarmEventList");
    for (unsigned i = 0; i < l->count && i < NL_BC_ALARM_MAX; i++) {
        const nl_bc_alarm_event *e = &l->ev[i];
        nl_bc_xmlw_open(&w, "AlarmEvent", 1);
        nl_bc_xmlw_int(&w, "channelId", e->channel_id);
        nl_bc_xmlw_text(&w, "status", e->status[0] ? e->status : (e->motion ? "MD" : "none"));
        if (e->ai_type[0])
            nl_bc_xmlw_text(&w, "AItype", e->ai_type);
        nl_bc_xmlw_int(&w, "recording", e->recording);
        nl_bc_xmlw_int(&w, "timeStamp", e->timestamp);
        nl_bc_xmlw_close(&w, "AlarmEvent");
    }
    return end_body(&w, "AlarmEventList");
}

static int is_active(const char *s)
{
    return s[0] && strcmp(s, "none") != 0;
}

int nl_bc_parse_alarm_list(const nl_bc_xml_node *root, nl_bc_alarm_list *out)
{
    memset(out, 0, sizeof *out);
    const nl_bc_xml_node *al = nl_bc_xml_find_node(root, "AlarmEventList");
    if (!al)
        return NL_EPROTO;
    for (const nl_bc_xml_node *ev = nl_bc_xml_child(al, "AlarmEvent"); ev;
         ev = nl_bc_xml_next_same(ev)) {
        if (out->count == NL_BC_ALARM_MAX)
            break;
        nl_bc_alarm_event *e = &out->ev[out->count];
        int rc = req_u32(ev, "channelId", &e->channel_id);
        if (rc < 0)
            return rc;
        opt_str(ev, "status", e->status, sizeof e->status);
        opt_str(ev, "AItype", e->ai_type, sizeof e->ai_type);
        opt_i32(ev, "recording", &e->recording);
        int64_t ts;
        if (nl_bc_xml_find_int(ev, "timeStamp", INT64_MIN, INT64_MAX, &ts) == 0)
            e->timestamp = ts;
        e->motion = is_active(e->status) || is_active(e->ai_type);
        out->count++;
    }
    return 0;
}

int nl_bc_alarm_motion(const nl_bc_alarm_list *l, uint32_t channel_id)
{
    int state = -1;
    for (unsigned i = 0; i < l->count; i++)
        if (l->ev[i].channel_id == channel_id)
            state = l->ev[i].motion || state == 1;
    return state;
}

long nl_bc_build_uid(nl_dbuf *out, const char *uid)
{
    nl_bc_xmlw w;
    begin_body(&w, out, "Uid");
    nl_bc_xmlw_text(&w, "uid", uid);
    return end_body(&w, "Uid");
}

int nl_bc_parse_uid(const nl_bc_xml_node *root, char uid[NL_BC_NAME_MAX])
{
    return req_str(root, "Uid/uid", uid, NL_BC_NAME_MAX);
}

long nl_bc_build_ip(nl_dbuf *out, const nl_bc_ip_info *ip)
{
    nl_bc_xmlw w;
    begin_body(&w, out, "Ip");
    nl_bc_xmlw_text(&w, "ip", ip->ip);
    nl_bc_xmlw_text(&w, "mask", ip->mask);
    nl_bc_xmlw_text(&w, "gateway", ip->gateway);
    nl_bc_xmlw_text(&w, "mac", ip->mac);
    return end_body(&w, "Ip");
}

int nl_bc_parse_ip(const nl_bc_xml_node *root, nl_bc_ip_info *out)
{
    memset(out, 0, sizeof *out);
    const nl_bc_xml_node *ip = nl_bc_xml_find_node(root, "Ip");
    if (!ip)
        return NL_EPROTO;
    int rc = req_str(ip, "ip", out->ip, sizeof out->ip);
    if (rc < 0)
        return rc;
    opt_str(ip, "mask", out->mask, sizeof out->mask);
    opt_str(ip, "gateway", out->gateway, sizeof out->gateway);
    opt_str(ip, "mac", out->mac, sizeof out->mac);
    return 0;
}

static const char *const port_block[NL_BC_PORT_COUNT] = {
    "ServerPort", "HttpPort", "HttpsPort", "RtspPort", "RtmpPort", "OnvifPort",
};
static const char *const port_field[NL_BC_PORT_COUNT] = {
    "serverPort", "httpPort", "httpsPort", "rtspPort", "rtmpPort", "onvifPort",
};

long nl_bc_build_ports(nl_dbuf *out, const nl_bc_ports *p)
{
    nl_bc_xmlw w;
    nl_bc_xmlw_init(&w, out);
    nl_bc_xmlw_decl(&w);
    nl_bc_xmlw_open(&w, "body", 0);
    for (int i = 0; i < NL_BC_PORT_COUNT; i++) {
        if (!p->port[i])
            continue;
        nl_bc_xmlw_open(&w, port_block[i], 1);
        nl_bc_xmlw_int(&w, port_field[i], p->port[i]);
        nl_bc_xmlw_int(&w, "enable", p->enable[i] ? 1 : 0);
        nl_bc_xmlw_close(&w, port_block[i]);
    }
    nl_bc_xmlw_close(&w, "body");
    return finish(&w);
}

int nl_bc_parse_ports(const nl_bc_xml_node *root, nl_bc_ports *out)
{
    memset(out, 0, sizeof *out);
    int found = 0;
    for (int i = 0; i < NL_BC_PORT_COUNT; i++) {
        const nl_bc_xml_node *b = nl_bc_xml_find_node(root, port_block[i]);
        if (!b)
            continue;
        int64_t v;
        int rc = req_int(b, port_field[i], 0, 65535, &v);
        if (rc < 0)
            return rc;
        out->port[i] = (uint16_t)v;
        if (nl_bc_xml_find_int(b, "enable", 0, 1, &v) == 0)
            out->enable[i] = (uint8_t)v;
        found = 1;
    }
    return found ? 0 : NL_EPROTO;
}
