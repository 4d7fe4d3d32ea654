/* The configuration as libcyaml loads it ("raw"), before validation.
 *
 * The libcyaml schema (schema.c) is the one declaration of which keys exist,
 * their types, enum spellings and list limits. Two things read it: libcyaml,
 * to fill these structs, and the line-aware structural pass (yamlcheck.c),
 * to report every problem with its line. Optional scalars are pointers (NULL
 * when the key is absent), so defaults can differ from zero. Durations, sizes
 * and addresses stay strings here and are parsed by validate.c with the
 * key's line at hand. */
#ifndef NL_CONFIG_SCHEMA_H
#define NL_CONFIG_SCHEMA_H

#include <stdbool.h>
#include <stdint.h>

#include <cyaml/cyaml.h>

typedef struct nl__raw_user {
    char *name;
    char *pass;
    char *pass_file;
    char *pass_env;
} nl__raw_user;

typedef struct nl__raw_reconnect {
    char *min;
    char *max;
} nl__raw_reconnect;

typedef struct nl__raw_transcode {
    int *codec;
    int64_t *width;
    int64_t *height;
    int64_t *fps;
    char *bitrate;
    int *hwaccel;
    char *device;
    bool *replace;
} nl__raw_transcode;

typedef struct nl__raw_camera {
    char *name;
    char *address;
    char *username;
    char *password;
    char *password_file;
    char *password_env;
    int64_t *channel_id;
    int *stream;
    char **permitted_users;
    unsigned permitted_users_count;
    int *max_encryption;
    bool *enabled;
    bool *on_demand;
    char *idle_linger;
    char *keepalive;
    int64_t *keepalive_misses;
    char *stall_timeout;
    nl__raw_reconnect *reconnect;
    int64_t *max_clients;
    int *audio;
    nl__raw_transcode *transcode;
} nl__raw_camera;

typedef struct nl__raw_config {
    char *bind;
    int64_t *bind_port;
    char *http;
    char *shutdown_timeout;
    char *watchdog_timeout;
    int64_t *max_clients;
    int *log_level;
    nl__raw_user *users;
    unsigned users_count;
    nl__raw_camera *cameras;
    unsigned cameras_count;
} nl__raw_config;

/* Top-level schema: a pointer to an nl__raw_config. */
extern const cyaml_schema_value_t nl__cfg_schema;

/* Enum spellings shared with the *_name() functions; index = enum value
 * (the first spelling of each value is the canonical one). */
extern const cyaml_strval_t nl__cfg_stream_strings[];
extern const cyaml_strval_t nl__cfg_encryption_strings[];
extern const cyaml_strval_t nl__cfg_audio_strings[];
extern const cyaml_strval_t nl__cfg_codec_strings[];
extern const cyaml_strval_t nl__cfg_hwaccel_strings[];

#endif
