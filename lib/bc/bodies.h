/* Builders and parsers of the BC message bodies that the camera client and
 * the simulated camera exchange (sheet §3, §4).
 *
 * Builders append one complete camera-style XML document (sheet §4.1) to a
 * bounded nl_dbuf and return the number of bytes written, or NL_ETOOBIG /
 * NL_ENOMEM / NL_EINVAL. Parsers take the root element returned by
 * nl_bc_xml_parse (normally <body>, or <Extension> for extensions) and fill a
 * plain struct with bounded copies: nothing in the result points into the
 * parser. A missing required element is NL_EPROTO; an over-long value of a
 * required field is NL_ERANGE; optional fields are left zero/empty.
 *
 * Threads: pure functions of their arguments. Nothing blocks. */
#ifndef NL_BC_BODIES_H
#define NL_BC_BODIES_H

#include <stddef.h>
#include <stdint.h>

#include "bc/frame.h"
#include "bc/msg.h"
#include "bc/xml.h"
#include "core/dbuf.h"

#define NL_BC_NONCE_MAX  96  /* opaque; 16 hex or 22 chars seen */
#define NL_BC_NAME_MAX   64  /* user names, device names, short strings */
#define NL_BC_TOKEN_MAX  256 /* AbilityInfo token list */
#define NL_BC_WORD_MAX   32  /* enum-like words: "mainStream", "LAN", "ipc" */
#define NL_BC_ENCODE_MAX 16  /* encodeTable entries kept from a StreamInfoList */
#define NL_BC_ALARM_MAX  16  /* AlarmEvent entries kept from one push */

/* ---------------------------------------------------------- Encryption */

/* Camera's nonce reply (0x6614): <Encryption><type>md5</type><nonce>. */
typedef struct nl_bc_nonce_reply {
    char type[NL_BC_WORD_MAX];
    char nonce[NL_BC_NONCE_MAX];
} nl_bc_nonce_reply;

long nl_bc_build_nonce_reply(nl_dbuf *out, const char *nonce);
int nl_bc_parse_nonce_reply(const nl_bc_xml_node *root, nl_bc_nonce_reply *out);

/* ---------------------------------------------------------- Login */

/* Modern login (msg 1, class 0x6414): <LoginUser> + <LoginNet>. */
typedef struct nl_bc_login {
    char user_hash[NL_BC_HASH_LEN + 1]; /* H(username + nonce) */
    char pass_hash[NL_BC_HASH_LEN + 1]; /* H(password + nonce) */
    int32_t user_ver;                   /* 1 */
    char net_type[NL_BC_WORD_MAX];      /* "LAN" */
    int32_t udp_port;                   /* 0 over TCP */
} nl_bc_login;

/* Builds the login body from plain credentials (hashed with the nonce). */
long nl_bc_build_login(nl_dbuf *out, const char *user, const char *password, const char *nonce);
/* Builds the login body from an already filled struct. */
long nl_bc_build_login_hashed(nl_dbuf *out, const nl_bc_login *l);
int nl_bc_parse_login(const nl_bc_xml_node *root, nl_bc_login *out);
/* Simulated camera: 0 when the hashes match user/password under nonce, else
 * NL_EAUTH (NL_ENOMEM possible). Comparison is constant-time. */
int nl_bc_login_check(const nl_bc_login *l, const char *user, const char *password,
                      const char *nonce);

/* Result of a login reply (msg 1 from the camera): 0 for 200 with a body,
 * NL_EAUTH otherwise (any other code, or an empty 200; sheet §1.2, §3.1). */
int nl_bc_login_reply_result(const nl_bc_header *h);

/* Legacy MD5 login body (class 0x6514, 1836 bytes, sheet §3.2). */
typedef struct nl_bc_legacy_login {
    uint8_t user[NL_BC_LEGACY_FIELD_LEN];
    uint8_t pass[NL_BC_LEGACY_FIELD_LEN];
} nl_bc_legacy_login;

/* Writes the 1836-byte body (NULL password = 32 NULs). Returns 1836. */
long nl_bc_build_legacy_login(nl_dbuf *out, const char *user, const char *password);
/* NL_EPROTO unless n == 1836. */
int nl_bc_parse_legacy_login(const uint8_t *p, size_t n, nl_bc_legacy_login *out);

/* Logout (msg 2): <LoginUser> with plain credentials, plus <LoginNet>. */
typedef struct nl_bc_logout {
    char user[NL_BC_NAME_MAX];
    char password[NL_BC_NAME_MAX];
} nl_bc_logout;
long nl_bc_build_logout(nl_dbuf *out, const char *user, const char *password);
int nl_bc_parse_logout(const nl_bc_xml_node *root, nl_bc_logout *out);

/* ---------------------------------------------------------- DeviceInfo */

typedef struct nl_bc_encode_table {
    uint8_t info_index;        /* which <StreamInfo> block it came from */
    uint32_t channel_bits;     /* that block's channelBits */
    char type[NL_BC_WORD_MAX]; /* "mainStream", "subStream", "externStream" */
    uint32_t width, height;
    uint32_t framerate, bitrate; /* defaults */
} nl_bc_encode_table;

typedef struct nl_bc_stream_info_list {
    unsigned count; /* entries kept; extra ones are ignored */
    nl_bc_encode_table t[NL_BC_ENCODE_MAX];
} nl_bc_stream_info_list;

typedef struct nl_bc_device_info {
    char type[NL_BC_WORD_MAX];      /* "ipc", "wifi_solo_ipc", "nvr", ... (required) */
    char type_info[NL_BC_WORD_MAX]; /* "IPC", "NVR" */
    char firm_version[NL_BC_NAME_MAX];
    char resolution_name[NL_BC_WORD_MAX]; /* "3840*2160" */
    char norm[NL_BC_WORD_MAX];
    char language[NL_BC_WORD_MAX];
    uint32_t channel_num;
    uint32_t audio_num;
    uint32_t width, height;         /* 0 when the reply has no <resolution> */
    nl_bc_stream_info_list streams; /* from a sibling <StreamInfoList>, if any */
} nl_bc_device_info;

/* Login reply: <DeviceInfo> (required) and optionally <StreamInfoList>. */
long nl_bc_build_device_info(nl_dbuf *out, const nl_bc_device_info *d);
int nl_bc_parse_device_info(const nl_bc_xml_node *root, nl_bc_device_info *out);
/* Fills d with a plausible single-channel camera of the given main and sub
 * resolutions (for the simulated camera). */
void nl_bc_device_info_default(nl_bc_device_info *d, uint32_t main_w, uint32_t main_h,
                               uint32_t sub_w, uint32_t sub_h, uint32_t fps);

/* StreamInfoList (146, also inside the login reply). NL_EPROTO without it. */
long nl_bc_build_stream_info_list(nl_dbuf *out, const nl_bc_stream_info_list *l);
int nl_bc_parse_stream_info_list(const nl_bc_xml_node *root, nl_bc_stream_info_list *out);

/* ---------------------------------------------------------- Extension */

#define NL_BC_EXT_CHANNEL     0x01u
#define NL_BC_EXT_BINARY      0x02u
#define NL_BC_EXT_USER        0x04u
#define NL_BC_EXT_TOKEN       0x08u
#define NL_BC_EXT_ENCRYPT_LEN 0x10u
#define NL_BC_EXT_CHECK_POS   0x20u
#define NL_BC_EXT_CHECK_VALUE 0x40u
#define NL_BC_EXT_RF_ID       0x80u

/* <Extension version="1.1">; `has` says which fields are present. */
typedef struct nl_bc_extension {
    unsigned has;
    uint32_t channel_id;
    uint32_t binary_data; /* 0 or 1 */
    char user_name[NL_BC_NAME_MAX];
    char token[NL_BC_TOKEN_MAX];
    uint32_t encrypt_len;
    int64_t check_pos;
    int64_t check_value; /* signed LE int32 in practice */
    int64_t rf_id;
} nl_bc_extension;

/* Fields are written in this order when present: encryptLen, binaryData,
 * checkPos, checkValue, userName, token, channelId, rfId. A channel-only
 * extension is 104 bytes, a binaryData-only one 106 (sheet §4.1). */
long nl_bc_build_extension(nl_dbuf *out, const nl_bc_extension *e);
/* root must be <Extension>. encryptLen is matched case-insensitively (one
 * client revision wrote EncryptLen). */
int nl_bc_parse_extension(const nl_bc_xml_node *root, nl_bc_extension *out);
/* Shorthands for the two common extensions. */
long nl_bc_build_ext_channel(nl_dbuf *out, uint32_t channel_id);
long nl_bc_build_ext_binary(nl_dbuf *out, int on);

/* ---------------------------------------------------------- Preview (3, 4) */

enum nl_bc_stream_kind {
    NL_BC_STREAM_NONE = -1, /* video stop: no <streamType> */
    NL_BC_STREAM_MAIN = 0,
    NL_BC_STREAM_SUB = 1,
    NL_BC_STREAM_EXTERN = 2,
};

typedef struct nl_bc_preview {
    uint32_t channel_id;
    uint32_t handle;
    int stream; /* enum nl_bc_stream_kind */
} nl_bc_preview;

long nl_bc_build_preview(nl_dbuf *out, const nl_bc_preview *p);
int nl_bc_parse_preview(const nl_bc_xml_node *root, nl_bc_preview *out);
/* "mainStream"/"subStream"/"externStream" and back (NL_EINVAL if unknown). */
const char *nl_bc_stream_name(int kind);
int nl_bc_stream_parse(const char *name);
/* The values the Rust client and the official B800 client use (§4.3):
 * handle main 0 / sub 256 / extern 1024; header byte 13 main 0 / sub 1 /
 * extern 0. */
uint32_t nl_bc_stream_handle(int kind);
uint8_t nl_bc_stream_byte13(int kind);

/* ---------------------------------------------------------- AbilityInfo (151) */

enum nl_bc_ability {
    NL_BC_ABIL_PREVIEW = 1u << 0,
    NL_BC_ABIL_STREAM_TABLE = 1u << 1,
    NL_BC_ABIL_MOTION = 1u << 2,
    NL_BC_ABIL_LED_STATE = 1u << 3,
    NL_BC_ABIL_PTZ_CONTROL = 1u << 4,
    NL_BC_ABIL_REBOOT = 1u << 5,
    NL_BC_ABIL_GENERAL = 1u << 6,
    NL_BC_ABIL_VERSION = 1u << 7,
    NL_BC_ABIL_RF_ALARM = 1u << 8,
    NL_BC_ABIL_UID = 1u << 9,
};

typedef struct nl_bc_abilities {
    char user_name[NL_BC_NAME_MAX];
    uint32_t rw; /* NL_BC_ABIL_* present as name_rw */
    uint32_t ro; /* NL_BC_ABIL_* present as name_ro */
} nl_bc_abilities;

/* The request is extension-only: userName + the fixed token list. */
long nl_bc_build_ability_request(nl_dbuf *out, const char *user);
/* Reply; every <abilityValue> anywhere in <AbilityInfo> is scanned. */
long nl_bc_build_ability_reply(nl_dbuf *out, const nl_bc_abilities *a);
int nl_bc_parse_ability_reply(const nl_bc_xml_node *root, nl_bc_abilities *out);
/* Video is allowed with preview rw or streamTable ro (what the Rust client
 * checks). */
static inline int nl_bc_abilities_can_stream(const nl_bc_abilities *a)
{
    return (a->rw & NL_BC_ABIL_PREVIEW) || (a->ro & NL_BC_ABIL_STREAM_TABLE);
}

/* ---------------------------------------------------------- small replies */

/* LinkType (93): <LinkType><type>LAN</type>. */
long nl_bc_build_link_type(nl_dbuf *out, const char *type);
int nl_bc_parse_link_type(const nl_bc_xml_node *root, char type[NL_BC_WORD_MAX]);

/* VersionInfo (80). `name` is required when parsing. */
typedef struct nl_bc_version_info {
    char name[NL_BC_NAME_MAX];
    char type[NL_BC_NAME_MAX]; /* model */
    char serial[NL_BC_NAME_MAX];
    char build_day[NL_BC_NAME_MAX];
    char hardware_version[NL_BC_NAME_MAX];
    char cfg_version[NL_BC_NAME_MAX];
    char firmware_version[NL_BC_NAME_MAX];
    char detail[NL_BC_NAME_MAX];
} nl_bc_version_info;
long nl_bc_build_version_info(nl_dbuf *out, const nl_bc_version_info *v);
int nl_bc_parse_version_info(const nl_bc_xml_node *root, nl_bc_version_info *out);

/* SystemGeneral (104). time_zone is NEGATIVE seconds east of UTC (+7:00 is
 * -25200). Date/time fields are required when parsing. */
typedef struct nl_bc_system_general {
    int32_t time_zone;
    int32_t year, month, day, hour, minute, second;
    char osd_format[NL_BC_WORD_MAX];
    int32_t time_format;
    char language[NL_BC_WORD_MAX];
    char device_name[NL_BC_NAME_MAX];
} nl_bc_system_general;
long nl_bc_build_system_general(nl_dbuf *out, const nl_bc_system_general *g);
int nl_bc_parse_system_general(const nl_bc_xml_node *root, nl_bc_system_general *out);

/* AlarmEventList push (33). */
typedef struct nl_bc_alarm_event {
    uint32_t channel_id;
    char status[NL_BC_NAME_MAX];  /* "none", "MD", "MD,visitor" ... */
    char ai_type[NL_BC_NAME_MAX]; /* optional AItype */
    int32_t recording;
    int64_t timestamp;
    int motion; /* derived: status or AItype other than "none" */
} nl_bc_alarm_event;
typedef struct nl_bc_alarm_list {
    unsigned count;
    nl_bc_alarm_event ev[NL_BC_ALARM_MAX];
} nl_bc_alarm_list;
long nl_bc_build_alarm_list(nl_dbuf *out, const nl_bc_alarm_list *l);
/* An empty list (only other events, e.g. DayNightEvent) is valid: count 0. */
int nl_bc_parse_alarm_list(const nl_bc_xml_node *root, nl_bc_alarm_list *out);
/* Motion state of one channel in a push: 1, 0, or -1 when not listed. */
int nl_bc_alarm_motion(const nl_bc_alarm_list *l, uint32_t channel_id);

/* Uid (114): <Uid><uid>. */
long nl_bc_build_uid(nl_dbuf *out, const char *uid);
int nl_bc_parse_uid(const nl_bc_xml_node *root, char uid[NL_BC_NAME_MAX]);

/* Ip (76). ip and mac are what clients read. */
typedef struct nl_bc_ip_info {
    char ip[NL_BC_WORD_MAX];
    char mask[NL_BC_WORD_MAX];
    char gateway[NL_BC_WORD_MAX];
    char mac[NL_BC_WORD_MAX];
} nl_bc_ip_info;
long nl_bc_build_ip(nl_dbuf *out, const nl_bc_ip_info *ip);
int nl_bc_parse_ip(const nl_bc_xml_node *root, nl_bc_ip_info *out);

/* Ports (37): <ServerPort><serverPort>9000</serverPort><enable>1</enable>,
 * and likewise Http, Https, Rtsp, Rtmp, Onvif. 0 port = block absent. */
enum {
    NL_BC_PORT_SERVER,
    NL_BC_PORT_HTTP,
    NL_BC_PORT_HTTPS,
    NL_BC_PORT_RTSP,
    NL_BC_PORT_RTMP,
    NL_BC_PORT_ONVIF,
    NL_BC_PORT_COUNT
};
typedef struct nl_bc_ports {
    uint16_t port[NL_BC_PORT_COUNT];
    uint8_t enable[NL_BC_PORT_COUNT];
} nl_bc_ports;
long nl_bc_build_ports(nl_dbuf *out, const nl_bc_ports *p);
int nl_bc_parse_ports(const nl_bc_xml_node *root, nl_bc_ports *out);

#endif
