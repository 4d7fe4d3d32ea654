/* The login steps (baichuan.md §3.1), all under one login deadline:
 *   1. header-only legacy upgrade (class 0x6514) offering the highest level;
 *   2. the camera's 0x6614 reply: the chosen level and the nonce;
 *   3. modern login with the 31-character hashes; the reply carries
 *      DeviceInfo (200) or refuses (400/401, or an empty 200): NL_EAUTH,
 *      final, never retried here;
 *   4. the codec switches to AES (levels 0x02/0x03/0x12) right after the
 *      login reply; then 151 AbilityInfo and 80 VersionInfo, whose failures
 *      are tolerated (they only enrich nl_camera_device_info).
 * Replies are matched on the message id (one request is outstanding at a
 * time here); a correlation word that was not echoed is only logged. */
#include <stdio.h>
#include <string.h>

#include "bc/bodies.h"
#include "bc/session_int.h"
#include "core/log.h"
#include "neolink/error.h"

const char *nl__login_waiting_for(int phase)
{
    switch (phase) {
    case NL__PH_NONCE:
        return "the nonce reply";
    case NL__PH_LOGIN:
        return "the login reply";
    case NL__PH_ABILITY:
        return "AbilityInfo";
    case NL__PH_VERSION:
        return "VersionInfo";
    default:
        return "nothing";
    }
}

/* Copies a string the camera sent. Control characters (XML allows a line
 * feed or a tab in text) become '?': these strings go into log lines, the
 * status JSON and metrics labels, where a hostile camera could otherwise
 * forge a line. */
static void copy_str(char *dst, size_t n, const char *src)
{
    snprintf(dst, n, "%s", src ? src : "");
    for (char *p = dst; *p; p++)
        if ((unsigned char)*p < 0x20 || *p == 0x7f)
            *p = '?';
}

static int level_rank(uint8_t level)
{
    return level == NL_BC_ENC_NONE ? 0 : level == NL_BC_ENC_BC ? 1 : 2;
}

/* Parses an XML payload with the connection's parser; NULL when there is
 * none or it is not XML. */
static const nl_bc_xml_node *payload_root(nl__conn *c, const nl_bc_decoded *d)
{
    const nl_bc_xml_node *root = NULL;
    if (d->binary || !d->payload_len)
        return NULL;
    if (nl_bc_xml_parse(c->xml, d->payload, d->payload_len, &root) < 0)
        return NULL;
    return root;
}

int nl__login_begin(nl__conn *c)
{
    nl_camera *cam = c->cam;
    uint64_t now = nl_loop_now(cam->loop);
    c->phase = NL__PH_NONCE;
    c->phase_deadline = nl_deadline_after(now, cam->login_ns);
    nl_bc_header h;
    c->wait_corr = nl__conn_corr(c, 0);
    nl_bc_header_init(&h, NL_BC_MSG_LOGIN, NL_BC_CLASS_LEGACY, c->wait_corr, 0);
    nl_bc_hdr_set_level(&h, cam->offer_level, NL_BC_DIR_TO_CAMERA);
    int rc = nl__io_send(c, &h, NULL, 0, NULL, 0);
    if (rc < 0)
        return rc;
    NL_LOGD(cam->ctx, cam->who, "connected; offering encryption %s",
            nl_camera_encryption_name(cam->offer_level));
    nl__cam_update_state(cam);
    return c->dead ? NL_ECANCELED : 0;
}

static int send_request(nl__conn *c, uint32_t msg_id, const void *ext, size_t ext_len,
                        const void *body, size_t body_len)
{
    nl_bc_header h;
    c->wait_corr = nl__conn_corr(c, 0);
    nl_bc_header_init(&h, msg_id, NL_BC_CLASS_MODERN, c->wait_corr, 0);
    return nl__io_send(c, &h, ext, ext_len, body, body_len);
}

static int on_nonce(nl__conn *c, const nl_bc_decoded *d)
{
    nl_camera *cam = c->cam;
    const nl_bc_header *h = d->hdr;
    if (h->msg_class != NL_BC_CLASS_LEGACY_REPLY) {
        /* A modern reply to the upgrade: an old camera that only knows the
         * 1836-byte MD5 login (answers 200), or a refusal. */
        if (h->response_code == NL_BC_RESP_OK)
            return nl__conn_fail(c, NL_ENOTSUP,
                                 "camera only supports the legacy MD5 login (not implemented)");
        return nl__conn_fail(c, NL_EREFUSED, "camera refused the login upgrade (%u)",
                             h->response_code);
    }
    uint8_t level = nl_bc_hdr_enc_level(h);
    if (nl_bc_codec_set_level(&c->codec, level) < 0)
        return nl__conn_fail(c, NL_EPROTO, "camera chose an unknown encryption level 0x%02x",
                             level);
    if (level_rank(level) > level_rank(cam->offer_level))
        NL_LOGW(cam->ctx, cam->who, "camera chose encryption %s above the offered %s",
                nl_camera_encryption_name(level), nl_camera_encryption_name(cam->offer_level));
    const nl_bc_xml_node *root = payload_root(c, d);
    nl_bc_nonce_reply nr;
    if (!root || nl_bc_parse_nonce_reply(root, &nr) < 0 || !nr.nonce[0])
        return nl__conn_fail(c, NL_EPROTO, "camera's login reply carries no nonce");
    c->level = level;
    copy_str(c->nonce, sizeof c->nonce, nr.nonce);
    NL_LOGD(cam->ctx, cam->who, "encryption %s negotiated", nl_camera_encryption_name(level));

    nl_dbuf_reset(&c->body);
    long n = nl_bc_build_login(&c->body, cam->user, cam->pass, c->nonce);
    if (n < 0)
        return nl__conn_fail(c, (int)n, "cannot build the login request: %s", nl_strerror((int)n));
    c->phase = NL__PH_LOGIN;
    return send_request(c, NL_BC_MSG_LOGIN, NULL, 0, c->body.data, (size_t)n);
}

static void take_device_info(nl_camera *cam, const nl_bc_device_info *di)
{
    nl_camera_device_info *ci = &cam->info;
    copy_str(ci->type, sizeof ci->type, di->type);
    copy_str(ci->model, sizeof ci->model, di->type);
    copy_str(ci->firmware, sizeof ci->firmware, di->firm_version);
    ci->width = di->width;
    ci->height = di->height;
    ci->channels = di->channel_num;
    for (unsigned i = 0; i < di->streams.count && i < NL_BC_ENCODE_MAX; i++) {
        const nl_bc_encode_table *t = &di->streams.t[i];
        int k = nl_bc_stream_parse(t->type);
        if (k < 0 || k >= NL_CAMERA_STREAM_COUNT || ci->stream[k].width)
            continue; /* keep the first block that names the stream */
        ci->stream[k].width = t->width;
        ci->stream[k].height = t->height;
        ci->stream[k].fps = t->framerate;
        ci->stream[k].bitrate_kbps = t->bitrate;
    }
}

static int on_login_reply(nl__conn *c, const nl_bc_decoded *d)
{
    nl_camera *cam = c->cam;
    const nl_bc_header *h = d->hdr;
    if (nl_bc_login_reply_result(h) < 0) {
        if (h->response_code == NL_BC_RESP_OK)
            return nl__conn_fail(c, NL_EAUTH, "login rejected by camera (200 with an empty reply)");
        return nl__conn_fail(c, NL_EAUTH, "login rejected by camera (%u)", h->response_code);
    }
    memset(&cam->info, 0, sizeof cam->info);
    const nl_bc_xml_node *root = payload_root(c, d);
    nl_bc_device_info di;
    if (root && nl_bc_parse_device_info(root, &di) == 0)
        take_device_info(cam, &di);
    else
        NL_LOGW(cam->ctx, cam->who, "login reply without a readable DeviceInfo");
    cam->info.encryption = c->level;

    /* From the next message on, XML is AES at levels 0x02/0x03/0x12. */
    int rc = nl_bc_codec_login_done(&c->codec, c->nonce, cam->pass);
    if (rc < 0)
        return nl__conn_fail(c, rc, "cannot derive the session key: %s", nl_strerror(rc));

    nl_dbuf_reset(&c->ext);
    long n = nl_bc_build_ability_request(&c->ext, cam->user);
    if (n < 0)
        return nl__conn_fail(c, (int)n, "cannot build AbilityInfo: %s", nl_strerror((int)n));
    c->phase = NL__PH_ABILITY;
    return send_request(c, NL_BC_MSG_ABILITY_INFO, c->ext.data, (size_t)n, NULL, 0);
}

static int login_ready(nl__conn *c)
{
    nl_camera *cam = c->cam;
    uint64_t now = nl_loop_now(cam->loop);
    c->phase = NL__PH_READY;
    c->phase_deadline = NL_TIME_NEVER;
    c->ping_due = nl_deadline_after(now, cam->keepalive_ns);
    cam->have_info = 1;
    cam->stats.logins++;
    NL_LOGI(cam->ctx, cam->who, "logged in: %s, firmware %s, encryption %s",
            cam->info.model[0] ? cam->info.model : "?",
            cam->info.firmware[0] ? cam->info.firmware : "?", nl_camera_encryption_name(c->level));
    int want_motion =
        cam->subscribe_motion > 0 || (cam->subscribe_motion == 0 && cam->cb.on_motion);
    if (want_motion) {
        int rc = nl__io_send_simple(c, NL_BC_MSG_MOTION_REQUEST, NULL);
        if (rc < 0)
            return rc;
    }
    nl__cam_update_state(cam);
    if (c->dead || c->phase != NL__PH_READY)
        return c->dead ? NL_ECANCELED : 0;
    return nl__streams_start_queued(c);
}

static int on_ability(nl__conn *c, const nl_bc_decoded *d)
{
    nl_camera *cam = c->cam;
    const nl_bc_xml_node *root = payload_root(c, d);
    nl_bc_abilities ab;
    int known =
        d->hdr->response_code == NL_BC_RESP_OK && root && nl_bc_parse_ability_reply(root, &ab) == 0;
    if (!known)
        NL_LOGW(cam->ctx, cam->who, "AbilityInfo not available (code %u)", d->hdr->response_code);
    else if (!nl_bc_abilities_can_stream(&ab))
        NL_LOGW(cam->ctx, cam->who, "camera lists no preview ability; streaming may be refused");
    /* VersionInfo needs "version" when the abilities are known. */
    if (known && !((ab.ro | ab.rw) & NL_BC_ABIL_VERSION))
        return login_ready(c);
    c->phase = NL__PH_VERSION;
    return send_request(c, NL_BC_MSG_VERSION, NULL, 0, NULL, 0);
}

static int on_version(nl__conn *c, const nl_bc_decoded *d)
{
    nl_camera *cam = c->cam;
    const nl_bc_xml_node *root = payload_root(c, d);
    nl_bc_version_info v;
    if (d->hdr->response_code == NL_BC_RESP_OK && root && nl_bc_parse_version_info(root, &v) == 0) {
        nl_camera_device_info *ci = &cam->info;
        if (v.type[0])
            copy_str(ci->model, sizeof ci->model, v.type);
        copy_str(ci->name, sizeof ci->name, v.name);
        copy_str(ci->serial, sizeof ci->serial, v.serial);
        if (v.firmware_version[0])
            copy_str(ci->firmware, sizeof ci->firmware, v.firmware_version);
    } else {
        NL_LOGD(cam->ctx, cam->who, "VersionInfo not available (code %u)", d->hdr->response_code);
    }
    return login_ready(c);
}

int nl__login_on_message(nl__conn *c, const nl_bc_decoded *d)
{
    nl_camera *cam = c->cam;
    const nl_bc_header *h = d->hdr;
    static const uint32_t expect[] = {
        [NL__PH_NONCE] = NL_BC_MSG_LOGIN,
        [NL__PH_LOGIN] = NL_BC_MSG_LOGIN,
        [NL__PH_ABILITY] = NL_BC_MSG_ABILITY_INFO,
        [NL__PH_VERSION] = NL_BC_MSG_VERSION,
    };
    if (h->msg_id != expect[c->phase]) {
        /* Pushes (battery 252, 78/79...) may come in during login. */
        NL_LOGD(cam->ctx, cam->who, "msg %u during login ignored", (unsigned)h->msg_id);
        return 0;
    }
    if (h->corr != c->wait_corr)
        NL_LOGD(cam->ctx, cam->who, "msg %u reply with correlation %08x (sent %08x)",
                (unsigned)h->msg_id, (unsigned)h->corr, (unsigned)c->wait_corr);
    switch (c->phase) {
    case NL__PH_NONCE:
        return on_nonce(c, d);
    case NL__PH_LOGIN:
        return on_login_reply(c, d);
    case NL__PH_ABILITY:
        return on_ability(c, d);
    default:
        return on_version(c, d);
    }
}
