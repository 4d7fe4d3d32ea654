/**
 * @file config.h
 * The YAML configuration of a neolink server: loading, validation, and the
 * plain structs the rest of the program reads.
 *
 * A configuration is loaded once (and again on SIGHUP), validated as a whole,
 * and then never changes: every pointer inside an nl_config stays valid and
 * constant until nl_config_free(). Reading a loaded config from several
 * threads at once is therefore safe without locks.
 *
 * Every problem found while loading is reported as one line of the form
 *
 *     config.yaml:12: cameras[1].address: expected HOST[:PORT]
 *
 * (file name as given by the caller, 1-based line, key path, message).
 * Warnings read "config.yaml:7: warning: cameras[0].password: ...". A problem
 * that has no line (an unreadable file) leaves the line out.
 * The key names follow the original neolink; see docs/configuration.md.
 */
#ifndef NEOLINK_CONFIG_H
#define NEOLINK_CONFIG_H

#include <stddef.h>
#include <stdint.h>

#include "neolink/common.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Largest configuration file accepted (bytes). */
#define NL_CONFIG_MAX_FILE_SIZE (1024 * 1024)
/** Most cameras one file may declare. */
#define NL_CONFIG_MAX_CAMERAS 256
/** Most RTSP users one file may declare. */
#define NL_CONFIG_MAX_USERS 256
/** Longest camera or user name (bytes, without the terminating NUL). */
#define NL_CONFIG_NAME_MAX 64
/** Longest password, inline or read from a file or the environment (bytes). */
#define NL_CONFIG_SECRET_MAX 1024
/** Size of nl_config_path.path: "/" NAME "/" longest alias "/" codec + NUL. */
#define NL_CONFIG_PATH_MAX 96
/** Longest camera user name or password in bytes: the camera's login fields
 *  (NL_CAMERA_CREDENTIAL_MAX in camera.h); `check` rejects longer ones. */
#define NL_CONFIG_CAMERA_CREDENTIAL_MAX 63
/** Most RTSP paths one camera can serve (see nl_config_camera_paths()). */
#define NL_CONFIG_PATHS_MAX 32

/** Flags for nl_config_load_file_ex() and nl_config_load_string(). */
enum {
    /** Accept a file without cameras (the CLI's demo mode adds its own). */
    NL_CONFIG_ALLOW_NO_CAMERAS = 1u << 0,
};

/** Which camera streams a camera entry serves (`stream:`). */
typedef enum nl_config_stream {
    NL_CFG_STREAM_ALL = 0, /**< main, sub and extern ("all", the default) */
    NL_CFG_STREAM_MAIN,    /**< the main (high resolution) stream only */
    NL_CFG_STREAM_SUB,     /**< the sub (low resolution) stream only */
    NL_CFG_STREAM_EXTERN,  /**< the extern (third) stream only */
    NL_CFG_STREAM_BOTH,    /**< main and sub */
} nl_config_stream;

/** Highest encryption offered at login (`max_encryption:`). */
typedef enum nl_config_encryption {
    NL_CFG_ENC_NONE = 0, /**< "none": plain XML */
    NL_CFG_ENC_BC,       /**< "bc": the XOR "BCEncrypt" scheme */
    NL_CFG_ENC_AES,      /**< "aes": AES, the default */
} nl_config_encryption;

/** Audio served to RTSP clients (`audio:`). */
typedef enum nl_config_audio {
    NL_CFG_AUDIO_AAC = 0, /**< "aac" (ADPCM from the camera is converted); the default */
    NL_CFG_AUDIO_PCMU,    /**< "pcmu": G.711 mu-law */
    NL_CFG_AUDIO_PCMA,    /**< "pcma": G.711 A-law */
    NL_CFG_AUDIO_OFF,     /**< "off": video only */
} nl_config_audio;

/** Output codec of a transcoded stream (`transcode.codec:`). */
typedef enum nl_config_codec {
    NL_CFG_CODEC_H264 = 0, /**< "h264", the default */
    NL_CFG_CODEC_H265,     /**< "h265" */
} nl_config_codec;

/** Encoder choice of a transcoded stream (`transcode.hwaccel:`). */
typedef enum nl_config_hwaccel {
    NL_CFG_HW_AUTO = 0, /**< "auto": VAAPI when a device works, else software; the default */
    NL_CFG_HW_VAAPI,    /**< "vaapi": VAAPI only */
    NL_CFG_HW_SOFTWARE, /**< "software": software encoder only */
} nl_config_hwaccel;

/** Where a password came from. */
typedef enum nl_config_secret_source {
    NL_CFG_SECRET_NONE = 0, /**< not given (camera passwords then default to "") */
    NL_CFG_SECRET_INLINE,   /**< written in the YAML (`password:` / `pass:`) */
    NL_CFG_SECRET_FILE,     /**< read from `password_file:` / `pass_file:` */
    NL_CFG_SECRET_ENV,      /**< read from `password_env:` / `pass_env:` */
} nl_config_secret_source;

/** A resolved password. Never log `value`. */
typedef struct nl_config_secret {
    const char *value;              /**< the password itself; "" when none */
    nl_config_secret_source source; /**< where it came from */
    const char *ref;                /**< file path or variable name; NULL for inline/none */
} nl_config_secret;

/** One RTSP user (`users:` entry). */
typedef struct nl_config_user {
    const char *name;      /**< unique; no ':'; never "anyone" */
    nl_config_secret pass; /**< always set (one of the three sources) */
    int line;              /**< line of the entry in the file; 0 when not from a file */
} nl_config_user;

/** Optional transcoding of a camera's streams (`transcode:`). */
typedef struct nl_config_transcode {
    nl_config_codec codec;     /**< output codec */
    int width;                 /**< output width, 0 = keep (or follow height's aspect) */
    int height;                /**< output height, 0 = keep (or follow width's aspect) */
    int fps;                   /**< output frame rate, 0 = the camera's */
    int64_t bitrate;           /**< bits per second, 0 = encoder default */
    nl_config_hwaccel hwaccel; /**< encoder choice */
    const char *device;        /**< DRM render node, NULL = first one found */
    int replace;               /**< 1: the plain paths serve the transcoded stream too */
} nl_config_transcode;

/** One camera (`cameras:` entry). All durations are nanoseconds. */
typedef struct nl_config_camera {
    const char *name;                    /**< unique, [A-Za-z0-9_-]+, used in URL paths */
    const char *host;                    /**< host name or IP literal (IPv6 without brackets) */
    uint16_t port;                       /**< Baichuan TCP port, default 9000 */
    const char *username;                /**< login name, default "admin" */
    nl_config_secret password;           /**< login password, default "" (NL_CFG_SECRET_NONE) */
    unsigned channel_id;                 /**< channel on an NVR/hub, default 0 */
    nl_config_stream stream;             /**< streams served, default NL_CFG_STREAM_ALL */
    const char *const *permitted_users;  /**< who may watch; NULL = any configured user */
    size_t permitted_user_count;         /**< entries in permitted_users */
    nl_config_encryption max_encryption; /**< default NL_CFG_ENC_AES */
    int enabled;                         /**< 0: the camera is not served; default 1 */
    int on_demand;             /**< 1: stream from the camera only while watched; default 1 */
    int64_t idle_linger_ns;    /**< keep streaming this long after the last viewer (10 s) */
    int64_t keepalive_ns;      /**< interval of the keepalive ping (5 s) */
    unsigned keepalive_misses; /**< unanswered pings before the link is dead (5) */
    int64_t stall_timeout_ns;  /**< no media this long while streaming: reconnect (10 s) */
    int64_t reconnect_min_ns;  /**< first reconnect delay (50 ms), doubling ... */
    int64_t reconnect_max_ns;  /**< ... up to this (5 s) */
    unsigned max_clients;      /**< viewers per stream, 0 = only the global cap */
    nl_config_audio audio;     /**< default NL_CFG_AUDIO_AAC */
    const nl_config_transcode *transcode; /**< NULL when not transcoding */
    int line; /**< line of the entry in the file; 0 when not from a file */
} nl_config_camera;

/** A whole configuration. All durations are nanoseconds. */
typedef struct nl_config {
    const char *source;          /**< file path or name given at load ("" for defaults) */
    const char *bind;            /**< RTSP listen address, default "0.0.0.0" */
    uint16_t bind_port;          /**< RTSP listen port, default 8554 */
    int http_enabled;            /**< 0 when `http: off` */
    const char *http_host;       /**< metrics/health listen host, default "127.0.0.1" */
    uint16_t http_port;          /**< metrics/health listen port, default 9090 */
    int64_t shutdown_timeout_ns; /**< SIGTERM to exit deadline (2 s) */
    int64_t watchdog_timeout_ns; /**< stalled loop before abort (60 s); 0 = no watchdog */
    unsigned max_clients;        /**< RTSP clients in total (100) */
    int log_level;               /**< an nl_log_level, or -1 when `log_level` is not set */
    const nl_config_user *users; /**< RTSP users; NULL when none */
    size_t user_count;
    const nl_config_camera *cameras; /**< cameras in file order; NULL when none */
    size_t camera_count;
    unsigned warning_count; /**< warnings reported while loading */
} nl_config;

/**
 * Loads and validates a configuration file.
 *
 * Equivalent to nl_config_load_file_ex(out, path, 0, err, err_len).
 */
NL_EXPORT int nl_config_load_file(nl_config **out, const char *path, char *err, size_t err_len);

/**
 * Loads and validates a configuration file.
 *
 * Reads at most NL_CONFIG_MAX_FILE_SIZE bytes, checks the whole document and
 * reports every problem found, not just the first: every structural problem
 * (syntax, unknown or duplicate keys, malformed values) and, when there is
 * none, every semantic one (ranges, references, password sources).
 * Passwords given as `password_file`/`pass_file` are read (relative paths are
 * relative to the directory of `path`; trailing CR/LF are stripped) and
 * `password_env`/`pass_env` variables are looked up. When the file is
 * readable by other users and holds an inline password, a warning is
 * reported for each such password.
 *
 * @param out     receives the new configuration, owned by the caller (free it
 *                with nl_config_free()); set to NULL on failure
 * @param path    file to read; it also names the file in messages
 * @param flags   NL_CONFIG_ALLOW_NO_CAMERAS or 0
 * @param err     receives every error and warning, one per line (on success
 *                only warnings), NUL-terminated, cut to err_len; may be NULL.
 *                Messages name keys, never password values. At most 50 lines
 *                are written, then a count of the rest.
 * @param err_len size of err
 * @return 0; NL_ECONFIG when the file is not a valid configuration; NL_ENOENT,
 *         NL_EACCES or another errno-based code when it cannot be read;
 *         NL_EINVAL for a NULL argument or a directory; NL_ENOMEM
 *
 * Threads: any thread; several loads may run at once. It reads the
 * environment (getenv), so it must not race with setenv() in the host.
 * Blocking: reads the file and any password files (local file I/O only).
 */
NL_EXPORT int nl_config_load_file_ex(nl_config **out, const char *path, unsigned flags, char *err,
                                     size_t err_len);

/**
 * Loads and validates a configuration held in memory. The same as
 * nl_config_load_file_ex() except: nothing is read but password files
 * (relative ones are relative to the working directory) and there is no
 * file-permission warning.
 *
 * @param yaml    the document (need not be NUL-terminated); copied
 * @param len     its length in bytes, at most NL_CONFIG_MAX_FILE_SIZE
 * @param name    names the document in messages (e.g. "<stdin>"); NULL = "<string>"
 */
NL_EXPORT int nl_config_load_string(nl_config **out, const char *yaml, size_t len, const char *name,
                                    unsigned flags, char *err, size_t err_len);

/**
 * Creates a configuration holding every default and no cameras or users
 * (what an empty file with NL_CONFIG_ALLOW_NO_CAMERAS yields).
 *
 * @param out receives it, owned by the caller (nl_config_free()); NULL on failure
 * @return 0 or NL_ENOMEM. Any thread; never blocks.
 */
NL_EXPORT int nl_config_defaults(nl_config **out);

/**
 * Fills *cam with the defaults of a camera entry: port 9000, username
 * "admin", empty password, all streams, AES, enabled, on demand, the default
 * timers, AAC audio, no transcoding. name and host are set to NULL for the
 * caller to fill (for example with a simulated camera). The strings it sets
 * are static. Any thread; never blocks.
 */
NL_EXPORT void nl_config_camera_defaults(nl_config_camera *cam);

/**
 * Frees a configuration from any nl_config_load_* or nl_config_defaults()
 * call and sets *cfg to NULL. NULL and a pointer to NULL are no-ops.
 * Every pointer into the configuration becomes invalid: the caller must make
 * sure no thread still reads it. Never blocks.
 */
NL_EXPORT void nl_config_free(nl_config **cfg);

/**
 * Whether two camera entries describe the same camera setup, for a reload:
 * 1 when every setting (name, address, credentials and their sources,
 * streams, users, timers, audio, transcoding, ...) is equal, else 0. The
 * line in the file is ignored, so moving an entry does not count as a
 * change. Two NULLs are equal. Any thread; never blocks.
 */
NL_EXPORT int nl_config_camera_equal(const nl_config_camera *a, const nl_config_camera *b);

/** One RTSP path a camera serves. */
typedef struct nl_config_path {
    char path[NL_CONFIG_PATH_MAX]; /**< e.g. "/yard/mainStream"; always starts with '/' */
    nl_config_stream stream;       /**< NL_CFG_STREAM_MAIN, _SUB or _EXTERN */
    int transcoded;                /**< 1 when served from the transcoder */
    int alias;                     /**< 1 for an alternative spelling of an earlier path */
} nl_config_path;

/**
 * Lists the RTSP paths a camera serves, in this order:
 *  - "/{name}": the first served of main, sub, extern;
 *  - for each served stream S in main, sub, extern order: "/{name}/S" and
 *    its aliases, e.g. main: main, mainStream, MainStream, Main, Mainstream,
 *    mainstream (the same forms for sub and extern);
 *  - with `transcode`: "/{name}/S/{codec}" for each served S, then
 *    "/{name}/{codec}" (the stream of "/{name}").
 * With `transcode.replace` the plain paths are transcoded too.
 * A disabled camera lists its paths all the same; the caller decides.
 *
 * @param cam  a camera from a loaded configuration (or a filled-in default)
 * @param out  receives up to cap entries; may be NULL when cap is 0
 * @return the number of paths the camera serves (at most
 *         NL_CONFIG_PATHS_MAX), even when more than cap. Any thread; never blocks.
 */
NL_EXPORT size_t nl_config_camera_paths(const nl_config_camera *cam, nl_config_path *out,
                                        size_t cap);

/**
 * Whether a viewer may watch a camera.
 *
 * @param cfg  the configuration the camera belongs to
 * @param cam  the camera
 * @param user authenticated user name, or NULL for a client that has not
 *             authenticated
 * @return 1 when allowed: the camera permits "anyone", or the configuration
 *         has no users (authentication is off), or `user` is configured and
 *         is in the camera's permitted_users (any configured user when the
 *         camera has no list); else 0. Any thread; never blocks.
 */
NL_EXPORT int nl_config_camera_allows(const nl_config *cfg, const nl_config_camera *cam,
                                      const char *user);

/**
 * Finds a configured user by name (for RTSP authentication).
 * @return the user, or NULL. Any thread; never blocks.
 */
NL_EXPORT const nl_config_user *nl_config_find_user(const nl_config *cfg, const char *name);

/** Name of an enum value as written in YAML ("all", "aes", "pcmu", "h265", "vaapi").
 *  Static strings; "?" for values out of range. Any thread; never blocks. */
NL_EXPORT const char *nl_config_stream_name(nl_config_stream s);
NL_EXPORT const char *nl_config_encryption_name(nl_config_encryption e);
NL_EXPORT const char *nl_config_audio_name(nl_config_audio a);
NL_EXPORT const char *nl_config_codec_name(nl_config_codec c);
NL_EXPORT const char *nl_config_hwaccel_name(nl_config_hwaccel h);

/**
 * Parses a duration as written in the configuration: a decimal number with
 * an optional unit ns, us, ms, s, m or h ("2s", "500ms", "1.5s", "1m"); a
 * bare number means seconds. Exposed so the CLI's options read the same way.
 *
 * @param text NUL-terminated input
 * @param out  receives nanoseconds on success
 * @return 0, NL_EINVAL for malformed or negative input, NL_ERANGE when the
 *         value does not fit in int64_t nanoseconds. Any thread; never blocks.
 */
NL_EXPORT int nl_config_parse_duration(const char *text, int64_t *out);

/**
 * Parses a bit rate or size: a decimal number with an optional SI suffix
 * k/K (1000), M (10^6) or G (10^9): "1M", "800k", "1.5M", "2000000".
 * @return 0, NL_EINVAL or NL_ERANGE as nl_config_parse_duration().
 */
NL_EXPORT int nl_config_parse_size(const char *text, int64_t *out);

#ifdef __cplusplus
}
#endif
#endif
