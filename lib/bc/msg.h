/* Baichuan (BC) protocol constants: magics, header classes, message ids,
 * response codes, encryption levels and the hard limits the parsers enforce.
 * Facts come from the protocol sheet (shared docs, baichuan.md); the section
 * numbers below refer to it. Nothing here allocates or has state. */
#ifndef NL_BC_MSG_H
#define NL_BC_MSG_H

#include <stdint.h>

/* ---- magics (§1.1): u32 LE at offset 0 -------------------------------- */
#define NL_BC_MAGIC         0x0ABCDEF0u /* wire f0 de bc 0a, client<->camera */
#define NL_BC_MAGIC_REVERSE 0x0FEDCBA0u /* wire a0 cb ed 0f, device<->device; accepted on read */
/* The sheet spells the reversed magic "a0 cd ed 0f" in its prose, which does
 * not match its own u32 (0x0FEDCBA0 is a0 cb ed 0f on the wire, as in the
 * Rust client). Both spellings are accepted on read; only the forward magic
 * is ever written by us unless a caller sets another. */
#define NL_BC_MAGIC_REVERSE_ALT 0x0FEDCDA0u /* wire a0 cd ed 0f */

/* ---- header classes (§1.1): u16 LE at offset 18 ------------------------ */
#define NL_BC_CLASS_LEGACY       0x6514u /* 20 B: client's first login message */
#define NL_BC_CLASS_LEGACY_REPLY 0x6614u /* 20 B: camera's nonce reply */
#define NL_BC_CLASS_MODERN       0x6414u /* 24 B: modern client requests */
#define NL_BC_CLASS_MODERN_REPLY 0x0000u /* 24 B: modern camera replies and pushes */
#define NL_BC_CLASS_FILE         0x6482u /* 24 B: "file download" (dissector only) */
#define NL_BC_CLASS_FFFF         0xFFFFu /* 24 B: trailing word is not an offset */

#define NL_BC_HDR_LEN_SHORT 20
#define NL_BC_HDR_LEN_LONG  24
#define NL_BC_HDR_LEN_MAX   24

/* ---- byte 17 of 20-byte headers (§1.1) ------------------------------- */
#define NL_BC_DIR_TO_CAMERA   0xDCu
#define NL_BC_DIR_FROM_CAMERA 0xDDu

/* ---- encryption levels, byte 16 of 20-byte headers (§2.1) -------------- */
#define NL_BC_ENC_NONE    0x00u /* plain XML */
#define NL_BC_ENC_BC      0x01u /* XOR "BCEncrypt" */
#define NL_BC_ENC_AES     0x02u /* AES-128-CFB128 on XML */
#define NL_BC_ENC_AES_ALT 0x03u /* Argus 2 over UDP; treated as AES (like reolink_aio) */
#define NL_BC_ENC_FULLAES 0x12u /* AES on XML plus an encryptLen prefix on binary */

/* ---- response codes (§1.2): u16 at offset 16 of 24-byte headers -------- */
#define NL_BC_RESP_REQUEST    0 /* every request */
#define NL_BC_RESP_OK         200
#define NL_BC_RESP_LAST_CHUNK 201 /* end of a snapshot transfer */
#define NL_BC_RESP_OK_300     300 /* reolink_aio also treats it as success */
#define NL_BC_RESP_BAD_REQ    400 /* bad request / not now; also a failed login */
#define NL_BC_RESP_AUTH       401 /* bad credentials */
#define NL_BC_RESP_BUSY       422 /* talk channel busy */

/* ---- message ids (§4.2) ---------------------------------------------- */
enum nl_bc_msg_id {
    NL_BC_MSG_LOGIN = 1,
    NL_BC_MSG_LOGOUT = 2,
    NL_BC_MSG_VIDEO = 3,
    NL_BC_MSG_VIDEO_STOP = 4,
    NL_BC_MSG_TALK_ABILITY = 10,
    NL_BC_MSG_TALK_RESET = 11,
    NL_BC_MSG_PTZ_CONTROL = 18,
    NL_BC_MSG_PTZ_PRESET = 19,
    NL_BC_MSG_REBOOT = 23,
    NL_BC_MSG_MOTION_REQUEST = 31,
    NL_BC_MSG_ALARM_EVENT_LIST = 33,
    NL_BC_MSG_PORTS_WRITE = 36,
    NL_BC_MSG_PORTS = 37,
    NL_BC_MSG_ABILITY_SUPPORT = 58,
    NL_BC_MSG_FIRMWARE = 67,
    NL_BC_MSG_IP = 76,
    NL_BC_MSG_VIDEO_INPUT_PUSH = 78,
    NL_BC_MSG_SERIAL_PUSH = 79,
    NL_BC_MSG_VERSION = 80,
    NL_BC_MSG_LINK_TYPE = 93, /* used as the client's ping */
    NL_BC_MSG_SYSTEM_GENERAL = 104,
    NL_BC_MSG_SYSTEM_GENERAL_WRITE = 105,
    NL_BC_MSG_SNAP = 109,
    NL_BC_MSG_UID = 114,
    NL_BC_MSG_PUSH_INFO = 124,
    NL_BC_MSG_CHANNEL_INFO_LIST = 145,
    NL_BC_MSG_STREAM_INFO_LIST = 146,
    NL_BC_MSG_ABILITY_INFO = 151,
    NL_BC_MSG_PTZ_PRESET_LIST = 190,
    NL_BC_MSG_SUPPORT = 199,
    NL_BC_MSG_TALK_CONFIG = 201,
    NL_BC_MSG_TALK = 202,
    NL_BC_MSG_LED_STATE = 208,
    NL_BC_MSG_LED_STATE_WRITE = 209,
    NL_BC_MSG_PIR_STATE = 212,
    NL_BC_MSG_PIR_STATE_WRITE = 213,
    NL_BC_MSG_KEEPALIVE = 234, /* camera->client heartbeat, header only */
    NL_BC_MSG_BATTERY_LIST = 252,
    NL_BC_MSG_BATTERY_INFO = 253,
    NL_BC_MSG_SIREN = 263,
    NL_BC_MSG_FLOODLIGHT_MANUAL = 288,
    NL_BC_MSG_FLOODLIGHT_STATUS_LIST = 291,
};

/* ---- limits ----------------------------------------------------------- */
/* Default cap on body_len; a larger header is rejected with NL_ETOOBIG. Video
 * chunks observed are <= 40000 B, so 4 MiB leaves a wide margin. */
#define NL_BC_MAX_BODY_DEFAULT (4u * 1024u * 1024u)
/* Correlation words that may be in "binary mode" at once per connection. */
#define NL_BC_BINARY_SLOTS 64
/* Legacy MD5 login body (§3.2): two 32-byte fields plus 1772 zero bytes. */
#define NL_BC_LEGACY_LOGIN_LEN 1836
#define NL_BC_LEGACY_FIELD_LEN 32
/* Login hash H(s): uppercase hex MD5 cut to 31 characters (§3.1). */
#define NL_BC_HASH_LEN 31

#endif
