/* Answers of the simulated camera to requests after login (sheet §10 item
 * 4, §10.1): XML replies built into the connection's scratch buffer, stream
 * start/stop, motion pushes. Values are plausible for a small Reolink IPC;
 * anything not listed here gets 400 with no body. */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "bc/bodies.h"
#include "bc/xml.h"
#include "core/log.h"
#include "core/time.h"
#include "neolink/error.h"
#include "sim/sim_conn_int.h"

#define FIRMWARE "v3.1.0.0_24010100"
#define HARDWARE "IPC_NLSIM"

static void reply_empty(nl__sim_conn *c, const nl_bc_header *h, uint16_t code)
{
    nl__sim_conn_send(c, h->msg_id, h->corr, code, NULL, 0, NULL, 0, 0, 0);
}

/* Sends the document a builder just wrote into scratch (n = its result). */
static void reply_scratch(nl__sim_conn *c, const nl_bc_header *h, long n)
{
    if (n < 0) {
        NL_LOGW(c->sim->ctx, c->who, "cannot build the reply to msg %u: %s", h->msg_id,
                nl_strerror((int)n));
        reply_empty(c, h, NL_BC_RESP_BAD_REQ);
        return;
    }
    nl__sim_conn_send(c, h->msg_id, h->corr, NL_BC_RESP_OK, NULL, 0, c->scratch.data,
                      c->scratch.len, 0, 0);
}

static nl_dbuf *scratch(nl__sim_conn *c)
{
    nl_dbuf_reset(&c->scratch);
    return &c->scratch;
}

static uint32_t channel_bits(const nl_sim *sim)
{
    return sim->cfg.channels >= 32 ? UINT32_MAX : (1u << sim->cfg.channels) - 1u;
}

/* The simulator's kinds are numbered like the Preview stream types
 * (NL_BC_STREAM_MAIN/SUB/EXTERN), so one index serves both. */
_Static_assert((int)NL_SIM_STREAM_MAIN == (int)NL_BC_STREAM_MAIN &&
                   (int)NL_SIM_STREAM_SUB == (int)NL_BC_STREAM_SUB &&
                   (int)NL_SIM_STREAM_EXTERN == (int)NL_BC_STREAM_EXTERN,
               "sim stream kinds follow the Preview stream types");
static void stream_list(const nl_sim *sim, nl_bc_stream_info_list *l)
{
    memset(l, 0, sizeof *l);
    for (int k = 0; k < NL_SIM_STREAM_KINDS; k++) {
        const nl_sim_stream_config *s = &sim->cfg.stream[k];
        if (!s->width) /* no extern stream on this camera: not listed */
            continue;
        nl_bc_encode_table *t = &l->t[l->count++];
        snprintf(t->type, sizeof t->type, "%s", nl_bc_stream_name(k));
        t->width = s->width, t->height = s->height;
        t->framerate = s->fps, t->bitrate = s->bitrate_kbps;
        t->channel_bits = channel_bits(sim);
    }
}

/* Preview streamType -> stream kind, or -1 for none the camera has (an
 * extern stream configured with width 0 does not exist). */
static int kind_of(const nl_sim *sim, int bc_stream)
{
    int k;
    switch (bc_stream) {
    case NL_BC_STREAM_MAIN:
        k = NL_SIM_STREAM_MAIN;
        break;
    case NL_BC_STREAM_SUB:
        k = NL_SIM_STREAM_SUB;
        break;
    case NL_BC_STREAM_EXTERN:
        k = NL_SIM_STREAM_EXTERN;
        break;
    default:
        return -1;
    }
    return sim->cfg.stream[k].width ? k : -1;
}

int nl__sim_reply_login(nl__sim_conn *c, uint32_t corr)
{
    const nl_sim *sim = c->sim;
    const nl_sim_stream_config *m = &sim->cfg.stream[NL_SIM_STREAM_MAIN];
    nl_bc_device_info d;
    nl_bc_device_info_default(&d, m->width, m->height, 0, 0, m->fps);
    snprintf(d.firm_version, sizeof d.firm_version, "%s", FIRMWARE);
    d.channel_num = sim->cfg.channels;
    d.audio_num = sim->cfg.audio != NL_SIM_AUDIO_NONE;
    stream_list(sim, &d.streams);
    long n = nl_bc_build_device_info(scratch(c), &d);
    if (n < 0)
        return (int)n;
    /* msg 1 is never AES (sheet §2.4): the codec picks XOR or plain. */
    return nl__sim_conn_send(c, NL_BC_MSG_LOGIN, corr, NL_BC_RESP_OK, NULL, 0, c->scratch.data,
                             c->scratch.len, 0, 0);
}

/* AbilityInfo (151): what the Rust client checks before it allows streaming,
 * motion, LED and PTZ commands, listed for every channel. */
static long build_abilities(nl__sim_conn *c, const char *user)
{
    static const struct {
        const char *section, *values;
        int per_channel;
    } rows[] = {
        {"system",
         "general_rw, norm_rw, version_ro, uid_ro, autoReboot_rw, restore_rw, "
         "reboot_rw, dateFormat_rw, log_ro",
         0},
        {"network", "port_rw, ip_rw, upnp_rw, ddns_rw, ntp_rw", 0},
        {"streaming", "preview_rw, streamTable_ro", 1},
        {"alarm", "motion_rw, shelter_rw", 1},
        {"image", "ispBasic_rw, ispAdvance_rw, ledState_rw", 1},
        {"video", "osdName_rw, osdTime_rw", 1},
        {"PTZ", "control_rw", 1},
    };
    const nl_sim *sim = c->sim;
    nl_bc_xmlw w;
    nl_bc_xmlw_init(&w, scratch(c));
    nl_bc_xmlw_decl(&w);
    nl_bc_xmlw_open(&w, "body", 0);
    nl_bc_xmlw_open(&w, "AbilityInfo", 1);
    nl_bc_xmlw_text(&w, "userName", user);
    for (size_t r = 0; r < sizeof rows / sizeof rows[0]; r++) {
        nl_bc_xmlw_open(&w, rows[r].section, 0);
        unsigned n = rows[r].per_channel ? sim->cfg.channels : 1;
        for (unsigned ch = 0; ch < n; ch++) {
            nl_bc_xmlw_open(&w, "subModule", 0);
            if (rows[r].per_channel)
                nl_bc_xmlw_int(&w, "channelId", ch);
            nl_bc_xmlw_text(&w, "abilityValue", rows[r].values);
            nl_bc_xmlw_close(&w, "subModule");
        }
        nl_bc_xmlw_close(&w, rows[r].section);
    }
    nl_bc_xmlw_close(&w, "AbilityInfo");
    nl_bc_xmlw_close(&w, "body");
    return nl_bc_xmlw_finish(&w);
}

static long build_support(nl__sim_conn *c)
{
    const nl_sim *sim = c->sim;
    nl_bc_xmlw w;
    nl_bc_xmlw_init(&w, scratch(c));
    nl_bc_xmlw_decl(&w);
    nl_bc_xmlw_open(&w, "body", 0);
    nl_bc_xmlw_open(&w, "Support", 1);
    nl_bc_xmlw_int(&w, "IOInputPortNum", 0);
    nl_bc_xmlw_int(&w, "IOOutputPortNum", 0);
    nl_bc_xmlw_int(&w, "diskNum", 0);
    nl_bc_xmlw_int(&w, "channelNum", sim->cfg.channels);
    nl_bc_xmlw_int(&w, "audioNum", sim->cfg.audio != NL_SIM_AUDIO_NONE);
    nl_bc_xmlw_text(&w, "ptzMode", "none");
    nl_bc_xmlw_int(&w, "rtsp", 1);
    nl_bc_xmlw_int(&w, "rtmp", 1);
    nl_bc_xmlw_int(&w, "onvif", 1);
    nl_bc_xmlw_int(&w, "noExternStream", 1);
    nl_bc_xmlw_int(&w, "audioTalk", 0);
    nl_bc_xmlw_int(&w, "pushAlarm", 1);
    nl_bc_xmlw_close(&w, "Support");
    nl_bc_xmlw_close(&w, "body");
    return nl_bc_xmlw_finish(&w);
}

static long build_led_state(nl__sim_conn *c, uint32_t channel)
{
    nl_bc_xmlw w;
    nl_bc_xmlw_init(&w, scratch(c));
    nl_bc_xmlw_decl(&w);
    nl_bc_xmlw_open(&w, "body", 0);
    nl_bc_xmlw_open(&w, "LedState", 1);
    nl_bc_xmlw_int(&w, "channelId", channel);
    nl_bc_xmlw_int(&w, "ledVersion", 2);
    nl_bc_xmlw_text(&w, "state", "auto");
    nl_bc_xmlw_text(&w, "lightState", "open");
    nl_bc_xmlw_close(&w, "LedState");
    nl_bc_xmlw_close(&w, "body");
    return nl_bc_xmlw_finish(&w);
}

static long build_version(nl__sim_conn *c)
{
    const nl_sim *sim = c->sim;
    nl_bc_version_info v;
    memset(&v, 0, sizeof v);
    snprintf(v.name, sizeof v.name, "%s", sim->cfg.model);
    snprintf(v.type, sizeof v.type, "%s", sim->cfg.model);
    snprintf(v.serial, sizeof v.serial, "%s", sim->cfg.uid);
    snprintf(v.build_day, sizeof v.build_day, "build 24010100");
    snprintf(v.hardware_version, sizeof v.hardware_version, HARDWARE);
    snprintf(v.cfg_version, sizeof v.cfg_version, "v3.1.0.0");
    snprintf(v.firmware_version, sizeof v.firmware_version, FIRMWARE);
    snprintf(v.detail, sizeof v.detail, "%s_SIMULATED", HARDWARE);
    return nl_bc_build_version_info(scratch(c), &v);
}

static long build_general(nl__sim_conn *c)
{
    time_t now = time(NULL);
    struct tm tm;
    localtime_r(&now, &tm);
    nl_bc_system_general g;
    memset(&g, 0, sizeof g);
    g.time_zone = (int32_t)-tm.tm_gmtoff; /* negative seconds east of UTC */
    g.year = tm.tm_year + 1900;
    g.month = tm.tm_mon + 1;
    g.day = tm.tm_mday;
    g.hour = tm.tm_hour;
    g.minute = tm.tm_min;
    g.second = tm.tm_sec;
    g.time_format = 0;
    snprintf(g.device_name, sizeof g.device_name, "%s", c->sim->cfg.model);
    return nl_bc_build_system_general(scratch(c), &g);
}

static long build_ip(nl__sim_conn *c)
{
    const nl_sim *sim = c->sim;
    nl_bc_ip_info ip;
    memset(&ip, 0, sizeof ip);
    const char *host = sim->cfg.listen_host;
    int usable = strchr(host, '.') && strcmp(host, "0.0.0.0") != 0;
    snprintf(ip.ip, sizeof ip.ip, "%s", usable ? host : "127.0.0.1");
    snprintf(ip.mask, sizeof ip.mask, "255.255.255.0");
    snprintf(ip.gateway, sizeof ip.gateway, "0.0.0.0");
    snprintf(ip.mac, sizeof ip.mac, "ec:71:db:00:00:01"); /* a Reolink OUI */
    return nl_bc_build_ip(scratch(c), &ip);
}

static long build_ports(nl__sim_conn *c)
{
    nl_bc_ports p;
    memset(&p, 0, sizeof p);
    static const uint16_t fixed[NL_BC_PORT_COUNT] = {0, 80, 443, 554, 1935, 8000};
    for (int i = 0; i < NL_BC_PORT_COUNT; i++) {
        p.port[i] = fixed[i];
        p.enable[i] = 1;
    }
    p.port[NL_BC_PORT_SERVER] = c->sim->port;
    return nl_bc_build_ports(scratch(c), &p);
}

/* ------------------------------------------------------------------ streams */

static int parse_preview(nl__sim_conn *c, const nl_bc_decoded *d, nl_bc_preview *p)
{
    const nl_bc_xml_node *root;
    if (d->binary || !d->payload_len)
        return NL_EPROTO;
    int rc = nl_bc_xml_parse(c->codec.xml, d->payload, d->payload_len, &root);
    return rc < 0 ? rc : nl_bc_parse_preview(root, p);
}

static nl__sim_sub *find_sub(nl__sim_conn *c, uint32_t corr)
{
    for (int i = 0; i < NL_SIM_CONN_MAX_SUBS; i++)
        if (c->subs[i].stream && c->subs[i].corr == corr)
            return &c->subs[i];
    return NULL;
}

static void on_start(nl__sim_conn *c, const nl_bc_header *h, const nl_bc_decoded *d)
{
    nl_sim *sim = c->sim;
    nl_bc_preview p;
    int rc = parse_preview(c, d, &p);
    if (rc < 0 || kind_of(sim, p.stream) < 0 || p.channel_id >= sim->cfg.channels) {
        NL_LOGI(sim->ctx, c->who, "stream start refused (%s)",
                rc < 0 ? "bad Preview" : "no such channel or stream");
        reply_empty(c, h, NL_BC_RESP_BAD_REQ);
        return;
    }
    nl__sim_sub *sub = find_sub(c, h->corr);
    if (sub) /* the same request again: start over */
        nl__sim_stream_unsubscribe(sub);
    for (int i = 0; !sub && i < NL_SIM_CONN_MAX_SUBS; i++)
        if (!c->subs[i].stream)
            sub = &c->subs[i];
    if (!sub) {
        NL_LOGI(sim->ctx, c->who, "stream start refused: %d streams already", NL_SIM_CONN_MAX_SUBS);
        reply_empty(c, h, NL_BC_RESP_BAD_REQ);
        return;
    }
    sub->corr = h->corr;
    sub->handle = p.handle;
    sub->channel = p.channel_id;
    sub->kind = kind_of(sim, p.stream);
    rc = nl__sim_stream_subscribe(sim, sub);
    if (rc < 0) {
        NL_LOGW(sim->ctx, c->who, "cannot start stream: %s", nl_strerror(rc));
        reply_empty(c, h, NL_BC_RESP_BAD_REQ);
        return;
    }
    /* Reply: 200, Extension binaryData=1, then the InfoV2 packet as the
     * first bytes of the media stream (sheet §4.3). */
    uint8_t info[32];
    rc = nl__sim_stream_info(sim, sub->kind, info);
    nl_bc_extension e;
    memset(&e, 0, sizeof e);
    e.has = NL_BC_EXT_BINARY;
    e.binary_data = 1;
    int fullaes = c->level == NL_BC_ENC_FULLAES;
    if (fullaes) {
        e.has |= NL_BC_EXT_ENCRYPT_LEN;
        e.encrypt_len = sizeof info;
    }
    long el = rc < 0 ? rc : nl_bc_build_extension(scratch(c), &e);
    if (el < 0) {
        nl__sim_stream_unsubscribe(sub);
        reply_empty(c, h, NL_BC_RESP_BAD_REQ);
        return;
    }
    if (nl__sim_conn_send(c, h->msg_id, h->corr, NL_BC_RESP_OK, c->scratch.data, (size_t)el, info,
                          sizeof info, NL_BC_OUT_BINARY, fullaes ? sizeof info : 0) < 0)
        return;
    if (!c->streaming) {
        c->streaming = 1;
        c->stream_start_ns = nl_loop_now(sim->loop);
    }
    NL_LOGI(sim->ctx, c->who, "streaming channel %u %s (handle %u)", sub->channel,
            nl__sim_kind_name(sub->kind), sub->handle);
}

static void on_stop(nl__sim_conn *c, const nl_bc_header *h, const nl_bc_decoded *d)
{
    nl_sim *sim = c->sim;
    /* The Rust client stops with the start's correlation word; others may
     * only name channel and handle. */
    nl__sim_sub *sub = find_sub(c, h->corr);
    nl_bc_preview p;
    if (!sub && parse_preview(c, d, &p) == 0) {
        for (int i = 0; !sub && i < NL_SIM_CONN_MAX_SUBS; i++) {
            nl__sim_sub *s = &c->subs[i];
            if (s->stream && s->channel == p.channel_id && s->handle == p.handle)
                sub = s;
        }
    }
    if (sub) {
        NL_LOGI(sim->ctx, c->who, "stopped channel %u %s", sub->channel,
                nl__sim_kind_name(sub->kind));
        nl__sim_stream_unsubscribe(sub);
    }
    reply_empty(c, h, NL_BC_RESP_OK);
}

/* ------------------------------------------------------------------ motion */

void nl__sim_on_motion_timer(nl_timer *t)
{
    nl__sim_conn *c = t->data;
    nl_sim *sim = c->sim;
    c->motion_on = !c->motion_on;
    nl_bc_alarm_list l;
    memset(&l, 0, sizeof l);
    l.count = sim->cfg.channels < NL_BC_ALARM_MAX ? sim->cfg.channels : NL_BC_ALARM_MAX;
    for (unsigned i = 0; i < l.count; i++) {
        l.ev[i].channel_id = i;
        snprintf(l.ev[i].status, sizeof l.ev[i].status, "%s", c->motion_on ? "MD" : "none");
        snprintf(l.ev[i].ai_type, sizeof l.ev[i].ai_type, "%s", c->motion_on ? "people" : "none");
    }
    long n = nl_bc_build_alarm_list(scratch(c), &l);
    if (n >= 0 && nl__sim_conn_send(c, NL_BC_MSG_ALARM_EVENT_LIST, c->motion_corr, NL_BC_RESP_OK,
                                    NULL, 0, c->scratch.data, c->scratch.len, 0, 0) == 0)
        sim->motion_pushes++;
    nl__sim_conn_flush(c);
    if (!c->closing && !c->stalled)
        nl_timer_start_in(sim->loop, t, (uint64_t)sim->cfg.motion_interval_ms * NL_NS_PER_MS);
}

static void on_motion_request(nl__sim_conn *c, const nl_bc_header *h)
{
    nl_sim *sim = c->sim;
    reply_empty(c, h, NL_BC_RESP_OK);
    c->motion_corr = h->corr;
    c->motion_on = 0;
    if (!sim->cfg.motion_interval_ms || nl_timer_armed(&c->motion_timer))
        return;
    /* First push soon, so clients see the subscription work. */
    uint32_t first = sim->cfg.motion_interval_ms < 1000 ? sim->cfg.motion_interval_ms : 1000;
    nl_timer_start_in(sim->loop, &c->motion_timer, (uint64_t)first * NL_NS_PER_MS);
}

/* ------------------------------------------------------------------ dispatch */

void nl__sim_reply_request(nl__sim_conn *c, const nl_bc_msg *m, const nl_bc_decoded *d)
{
    nl_sim *sim = c->sim;
    const nl_bc_header *h = &m->hdr;
    uint32_t channel = (d->ext.has & NL_BC_EXT_CHANNEL) ? d->ext.channel_id : 0;
    if (channel >= sim->cfg.channels) {
        reply_empty(c, h, NL_BC_RESP_BAD_REQ);
        return;
    }
    switch (h->msg_id) {
    case NL_BC_MSG_LOGOUT:
        NL_LOGI(sim->ctx, c->who, "logout");
        /* Nothing more is sent after the reply, so the queue drains and the
         * connection closes (reolink_aio waits for this reply). */
        for (int i = 0; i < NL_SIM_CONN_MAX_SUBS; i++)
            nl__sim_stream_unsubscribe(&c->subs[i]);
        nl_timer_stop(sim->loop, &c->motion_timer);
        nl_timer_stop(sim->loop, &c->keepalive_timer);
        reply_empty(c, h, NL_BC_RESP_OK);
        c->close_after_flush = 1;
        break;
    case NL_BC_MSG_VIDEO:
        on_start(c, h, d);
        break;
    case NL_BC_MSG_VIDEO_STOP:
        on_stop(c, h, d);
        break;
    case NL_BC_MSG_ABILITY_INFO:
        reply_scratch(
            c, h,
            build_abilities(c, (d->ext.has & NL_BC_EXT_USER) ? d->ext.user_name : sim->cfg.user));
        break;
    case NL_BC_MSG_LINK_TYPE:
        reply_scratch(c, h, nl_bc_build_link_type(scratch(c), "LAN"));
        break;
    case NL_BC_MSG_VERSION:
        reply_scratch(c, h, build_version(c));
        break;
    case NL_BC_MSG_SYSTEM_GENERAL:
        reply_scratch(c, h, build_general(c));
        break;
    case NL_BC_MSG_STREAM_INFO_LIST: {
        nl_bc_stream_info_list l;
        stream_list(sim, &l);
        reply_scratch(c, h, nl_bc_build_stream_info_list(scratch(c), &l));
        break;
    }
    case NL_BC_MSG_MOTION_REQUEST:
        on_motion_request(c, h);
        break;
    case NL_BC_MSG_UID:
        reply_scratch(c, h, nl_bc_build_uid(scratch(c), sim->cfg.uid));
        break;
    case NL_BC_MSG_IP:
        reply_scratch(c, h, build_ip(c));
        break;
    case NL_BC_MSG_PORTS:
        reply_scratch(c, h, build_ports(c));
        break;
    case NL_BC_MSG_SUPPORT:
        reply_scratch(c, h, build_support(c));
        break;
    case NL_BC_MSG_LED_STATE:
        reply_scratch(c, h, build_led_state(c, channel));
        break;
    case NL_BC_MSG_LED_STATE_WRITE:
    case NL_BC_MSG_PTZ_CONTROL:
    case NL_BC_MSG_REBOOT:
    case NL_BC_MSG_SIREN:
    case NL_BC_MSG_FLOODLIGHT_MANUAL:
        reply_empty(c, h, NL_BC_RESP_OK);
        break;
    default:
        NL_LOGD(sim->ctx, c->who, "msg %u not simulated: 400", h->msg_id);
        reply_empty(c, h, NL_BC_RESP_BAD_REQ);
        break;
    }
}
