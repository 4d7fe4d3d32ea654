/* The libcyaml schema of the configuration file: every key, its type, its
 * length or count limits and its enum spellings, in one place. yamlcheck.c
 * walks the same tables to report problems with line numbers, so a key added
 * here is known to both passes. */
#include <stddef.h>

#include "config/schema.h"
#include "neolink/common.h"
#include "neolink/config.h"

/* Length limits (bytes) of string values; the hard caps keep a hostile file
 * from making any single value large. */
#define LEN_NAME     NL_CONFIG_NAME_MAX
#define LEN_ADDRESS  300
#define LEN_SECRET   NL_CONFIG_SECRET_MAX
#define LEN_PATH     4096
#define LEN_ENVVAR   255
#define LEN_DURATION 32

/* Enum matching ignores case ("Main", "AES") but nothing else. */
#define ENUM_FLAGS (CYAML_FLAG_OPTIONAL | CYAML_FLAG_STRICT | CYAML_FLAG_CASE_INSENSITIVE)
#define OPT        CYAML_FLAG_OPTIONAL
#define OPT_PTR    (CYAML_FLAG_OPTIONAL | CYAML_FLAG_POINTER)

const cyaml_strval_t nl__cfg_stream_strings[] = {
    {"all", NL_CFG_STREAM_ALL},       {"main", NL_CFG_STREAM_MAIN}, {"sub", NL_CFG_STREAM_SUB},
    {"extern", NL_CFG_STREAM_EXTERN}, {"both", NL_CFG_STREAM_BOTH}, {NULL, 0},
};

const cyaml_strval_t nl__cfg_encryption_strings[] = {
    {"none", NL_CFG_ENC_NONE},
    {"bc", NL_CFG_ENC_BC},
    {"aes", NL_CFG_ENC_AES},
    {NULL, 0},
};

const cyaml_strval_t nl__cfg_audio_strings[] = {
    {"aac", NL_CFG_AUDIO_AAC},
    {"pcmu", NL_CFG_AUDIO_PCMU},
    {"pcma", NL_CFG_AUDIO_PCMA},
    {"off", NL_CFG_AUDIO_OFF},
    {NULL, 0},
};

const cyaml_strval_t nl__cfg_codec_strings[] = {
    {"h264", NL_CFG_CODEC_H264},
    {"h265", NL_CFG_CODEC_H265},
    {NULL, 0},
};

const cyaml_strval_t nl__cfg_hwaccel_strings[] = {
    {"auto", NL_CFG_HW_AUTO},
    {"vaapi", NL_CFG_HW_VAAPI},
    {"software", NL_CFG_HW_SOFTWARE},
    {NULL, 0},
};

static const cyaml_strval_t log_level_strings[] = {
    {"error", NL_LOG_ERROR}, {"warn", NL_LOG_WARN},   {"warning", NL_LOG_WARN},
    {"info", NL_LOG_INFO},   {"debug", NL_LOG_DEBUG}, {"trace", NL_LOG_TRACE},
};

/* Counts without the NULL terminator. */
#define COUNT(a) (CYAML_ARRAY_LEN(a) - 1)

static const cyaml_schema_field_t user_fields[] = {
    CYAML_FIELD_STRING_PTR("name", CYAML_FLAG_POINTER, nl__raw_user, name, 1, LEN_NAME),
    CYAML_FIELD_STRING_PTR("pass", OPT_PTR, nl__raw_user, pass, 0, LEN_SECRET),
    CYAML_FIELD_STRING_PTR("pass_file", OPT_PTR, nl__raw_user, pass_file, 1, LEN_PATH),
    CYAML_FIELD_STRING_PTR("pass_env", OPT_PTR, nl__raw_user, pass_env, 1, LEN_ENVVAR),
    CYAML_FIELD_END,
};

static const cyaml_schema_value_t user_value = {
    CYAML_VALUE_MAPPING(CYAML_FLAG_DEFAULT, nl__raw_user, user_fields),
};

static const cyaml_schema_field_t reconnect_fields[] = {
    CYAML_FIELD_STRING_PTR("min", OPT_PTR, nl__raw_reconnect, min, 1, LEN_DURATION),
    CYAML_FIELD_STRING_PTR("max", OPT_PTR, nl__raw_reconnect, max, 1, LEN_DURATION),
    CYAML_FIELD_END,
};

static const cyaml_schema_field_t transcode_fields[] = {
    CYAML_FIELD_ENUM_PTR("codec", ENUM_FLAGS, nl__raw_transcode, codec, nl__cfg_codec_strings,
                         COUNT(nl__cfg_codec_strings)),
    CYAML_FIELD_INT_PTR("width", OPT, nl__raw_transcode, width),
    CYAML_FIELD_INT_PTR("height", OPT, nl__raw_transcode, height),
    CYAML_FIELD_INT_PTR("fps", OPT, nl__raw_transcode, fps),
    CYAML_FIELD_STRING_PTR("bitrate", OPT_PTR, nl__raw_transcode, bitrate, 1, LEN_DURATION),
    CYAML_FIELD_ENUM_PTR("hwaccel", ENUM_FLAGS, nl__raw_transcode, hwaccel, nl__cfg_hwaccel_strings,
                         COUNT(nl__cfg_hwaccel_strings)),
    CYAML_FIELD_STRING_PTR("device", OPT_PTR, nl__raw_transcode, device, 1, LEN_PATH),
    CYAML_FIELD_BOOL_PTR("replace", OPT, nl__raw_transcode, replace),
    CYAML_FIELD_END,
};

static const cyaml_schema_value_t permitted_user_value = {
    CYAML_VALUE_STRING(CYAML_FLAG_POINTER, char, 1, LEN_NAME),
};

static const cyaml_schema_field_t camera_fields[] = {
    CYAML_FIELD_STRING_PTR("name", CYAML_FLAG_POINTER, nl__raw_camera, name, 1, LEN_NAME),
    CYAML_FIELD_STRING_PTR("address", CYAML_FLAG_POINTER, nl__raw_camera, address, 1, LEN_ADDRESS),
    CYAML_FIELD_STRING_PTR("username", OPT_PTR, nl__raw_camera, username, 1, LEN_NAME),
    CYAML_FIELD_STRING_PTR("password", OPT_PTR, nl__raw_camera, password, 0, LEN_SECRET),
    CYAML_FIELD_STRING_PTR("password_file", OPT_PTR, nl__raw_camera, password_file, 1, LEN_PATH),
    CYAML_FIELD_STRING_PTR("password_env", OPT_PTR, nl__raw_camera, password_env, 1, LEN_ENVVAR),
    CYAML_FIELD_INT_PTR("channel_id", OPT, nl__raw_camera, channel_id),
    CYAML_FIELD_ENUM_PTR("stream", ENUM_FLAGS, nl__raw_camera, stream, nl__cfg_stream_strings,
                         COUNT(nl__cfg_stream_strings)),
    CYAML_FIELD_SEQUENCE("permitted_users", OPT_PTR, nl__raw_camera, permitted_users,
                         &permitted_user_value, 0, NL_CONFIG_MAX_USERS),
    CYAML_FIELD_ENUM_PTR("max_encryption", ENUM_FLAGS, nl__raw_camera, max_encryption,
                         nl__cfg_encryption_strings, COUNT(nl__cfg_encryption_strings)),
    CYAML_FIELD_BOOL_PTR("enabled", OPT, nl__raw_camera, enabled),
    CYAML_FIELD_BOOL_PTR("on_demand", OPT, nl__raw_camera, on_demand),
    CYAML_FIELD_STRING_PTR("idle_linger", OPT_PTR, nl__raw_camera, idle_linger, 1, LEN_DURATION),
    CYAML_FIELD_STRING_PTR("keepalive", OPT_PTR, nl__raw_camera, keepalive, 1, LEN_DURATION),
    CYAML_FIELD_INT_PTR("keepalive_misses", OPT, nl__raw_camera, keepalive_misses),
    CYAML_FIELD_STRING_PTR("stall_timeout", OPT_PTR, nl__raw_camera, stall_timeout, 1,
                           LEN_DURATION),
    CYAML_FIELD_MAPPING_PTR("reconnect", OPT, nl__raw_camera, reconnect, reconnect_fields),
    CYAML_FIELD_INT_PTR("max_clients", OPT, nl__raw_camera, max_clients),
    CYAML_FIELD_ENUM_PTR("audio", ENUM_FLAGS, nl__raw_camera, audio, nl__cfg_audio_strings,
                         COUNT(nl__cfg_audio_strings)),
    CYAML_FIELD_MAPPING_PTR("transcode", OPT, nl__raw_camera, transcode, transcode_fields),
    CYAML_FIELD_END,
};

static const cyaml_schema_value_t camera_value = {
    CYAML_VALUE_MAPPING(CYAML_FLAG_DEFAULT, nl__raw_camera, camera_fields),
};

static const cyaml_schema_field_t top_fields[] = {
    CYAML_FIELD_STRING_PTR("bind", OPT_PTR, nl__raw_config, bind, 1, LEN_ADDRESS),
    CYAML_FIELD_INT_PTR("bind_port", OPT, nl__raw_config, bind_port),
    CYAML_FIELD_STRING_PTR("http", OPT_PTR, nl__raw_config, http, 1, LEN_ADDRESS),
    CYAML_FIELD_STRING_PTR("shutdown_timeout", OPT_PTR, nl__raw_config, shutdown_timeout, 1,
                           LEN_DURATION),
    CYAML_FIELD_STRING_PTR("watchdog_timeout", OPT_PTR, nl__raw_config, watchdog_timeout, 1,
                           LEN_DURATION),
    CYAML_FIELD_INT_PTR("max_clients", OPT, nl__raw_config, max_clients),
    CYAML_FIELD_ENUM_PTR("log_level", ENUM_FLAGS, nl__raw_config, log_level, log_level_strings,
                         CYAML_ARRAY_LEN(log_level_strings)),
    CYAML_FIELD_SEQUENCE("users", OPT_PTR, nl__raw_config, users, &user_value, 0,
                         NL_CONFIG_MAX_USERS),
    CYAML_FIELD_SEQUENCE("cameras", OPT_PTR, nl__raw_config, cameras, &camera_value, 0,
                         NL_CONFIG_MAX_CAMERAS),
    CYAML_FIELD_END,
};

const cyaml_schema_value_t nl__cfg_schema = {
    CYAML_VALUE_MAPPING(CYAML_FLAG_POINTER, nl__raw_config, top_fields),
};
