/**
 * @file hwenc.h
 * Video encode contexts (VAAPI, with an automatic software fallback),
 * transcoders that decode -> scale -> encode one stream on a worker thread,
 * audio conversion for RTP (Reolink ADPCM -> AAC / PCMU / PCMA, AAC passed
 * through) and JPEG snapshots of a stream's latest key frame.
 *
 * Backends. An encode context asks for `hwaccel` AUTO, VAAPI or SOFTWARE.
 * AUTO tries VAAPI and falls back to libx264/libx265 at the first failing
 * step, in this order: (1) the render node exists, (2) the VAAPI device
 * initialises, (3) a frames context of the wanted size can be made, (4) the
 * driver has an encode entrypoint and the encoder opens. Each failed step is
 * logged (WARN) with its name and libav's reason, and kept as the context's
 * fallback reason. VAAPI fails instead of falling back; SOFTWARE never
 * touches a device. Every context says which backend it got.
 *
 * Parameter sets: every IDR carries them in band (SPS/PPS, VPS for H.265),
 * and the extradata (Annex B, for the SDP) is filled as well: libx264/libx265
 * run with AV_CODEC_FLAG_GLOBAL_HEADER plus repeat-headers=1; VAAPI writes
 * packed headers at every IDR.
 *
 * Lifetimes. Each context owns an arena whose cleanup handlers drop every
 * frame, packet, codec, frames-context and device reference it holds, so one
 * arena destroy releases everything, also on half-opened contexts. An
 * optional owner arena closes the context when it is destroyed itself.
 * Closing is bounded by a deadline: the work runs on a helper thread that is
 * joined with a timeout and abandoned (counted in nl_hw_stats, logged with
 * what it was doing) when it misses it; the caller goes on.
 *
 * Threads. Encoding, decoding and scaling block for milliseconds, so a
 * transcoder runs them on its own worker thread behind bounded queues and
 * hands the packets back to the loop thread; the loop never encodes. A queue
 * that fills drops whole GOPs (it skips until the next key frame), never
 * random frames. Each object below states its own thread rules. libneolink
 * never calls av_log_set_callback(); libav and x264/x265 log through av_log's
 * process-wide settings, which belong to the host.
 *
 * Including this header requires libavcodec's headers.
 */
#ifndef NEOLINK_HWENC_H
#define NEOLINK_HWENC_H

#include <stddef.h>
#include <stdint.h>

#include <libavcodec/avcodec.h>

#include "neolink/arena.h"
#include "neolink/common.h"
#include "neolink/context.h"
#include "neolink/loop.h"
#include "neolink/media.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ================================================================ common */

/** Which acceleration a context may use. */
typedef enum nl_hwaccel {
    NL_HWACCEL_AUTO = 0,     /**< VAAPI when it works, else software */
    NL_HWACCEL_VAAPI = 1,    /**< VAAPI only: fail with NL_EHW when it does not work */
    NL_HWACCEL_SOFTWARE = 2, /**< libx264 / libx265 only */
} nl_hwaccel;

/** What an open context actually uses. */
typedef enum nl_hw_backend {
    NL_HW_BACKEND_NONE = 0,
    NL_HW_BACKEND_VAAPI = 1,
    NL_HW_BACKEND_SOFTWARE = 2,
} nl_hw_backend;

/** Rate control. */
typedef enum nl_hw_rc {
    NL_HW_RC_VBR = 0, /**< average bit_rate, peaks up to twice as high (default) */
    NL_HW_RC_CBR = 1, /**< bit_rate with a one-second buffer */
    NL_HW_RC_CQP = 2, /**< constant quantiser `qp`, no bit rate target */
} nl_hw_rc;

/** Parses "auto", "vaapi" or "software". Returns the value or NL_EINVAL. Any thread. */
NL_EXPORT int nl_hwaccel_parse(const char *name);

/** "auto", "vaapi", "software" (or "?"). Static string; any thread. */
NL_EXPORT const char *nl_hwaccel_name(nl_hwaccel accel);

/** "vaapi", "software" or "none". Static string; any thread. */
NL_EXPORT const char *nl_hw_backend_name(nl_hw_backend backend);

/** Parses "vbr", "cbr" or "cqp". Returns the value or NL_EINVAL. Any thread. */
NL_EXPORT int nl_hw_rc_parse(const char *name);

/**
 * Process-wide counters of this module, so a leak or a stuck thread is
 * visible (e.g. on /metrics). Live counts are derived from lists of live
 * objects, never kept by hand.
 */
typedef struct nl_hw_stats {
    uint64_t encoders_opened;     /**< encode contexts opened successfully */
    uint64_t encoders_closed;     /**< ... whose arena has been released */
    uint64_t encoders_live;       /**< contexts alive now (opened or half-open) */
    uint64_t encoders_vaapi;      /**< opened on VAAPI */
    uint64_t encoders_software;   /**< opened on libx264/libx265 */
    uint64_t fallbacks;           /**< AUTO contexts that fell back to software */
    uint64_t devices_opened;      /**< VAAPI device references created */
    uint64_t devices_closed;      /**< ... and dropped */
    uint64_t workers_started;     /**< worker and closer threads started */
    uint64_t workers_joined;      /**< ... joined within their deadline */
    uint64_t workers_abandoned;   /**< ... that missed their deadline and were detached */
    uint64_t workers_running;     /**< threads alive now (abandoned ones included) */
    uint64_t frames_decoded;      /**< video frames out of the transcoders' decoders */
    uint64_t frames_encoded;      /**< video packets out of the encoders */
    uint64_t packets_dropped;     /**< packets dropped by full queues (whole GOPs) */
    uint64_t gops_dropped;        /**< times a full queue started skipping to a key frame */
    uint64_t snapshots;           /**< JPEGs encoded */
    uint64_t snapshot_cache_hits; /**< snapshot requests answered from the cache */
} nl_hw_stats;

/**
 * Copies the counters. `size` is sizeof(*st) as the caller compiled it; only
 * that many bytes are written, so the struct can grow.
 * @return 0 or NL_EINVAL. Any thread; takes a short mutex.
 */
NL_EXPORT int nl_hw_get_stats(nl_hw_stats *st, size_t size);

/** Timeout value meaning "wait as long as it takes, on the calling thread". */
#define NL_HW_WAIT_FOREVER UINT32_MAX

/* ================================================================ encode context */

typedef struct nl_hwenc nl_hwenc;

/** Encode settings. Fill with nl_hwenc_config_init(), then set what you need. */
typedef struct nl_hwenc_config {
    const char *name;     /**< log label ("hwenc NAME"); NULL: "hwenc" */
    nl_media_codec codec; /**< NL_MEDIA_CODEC_H264 (default) or NL_MEDIA_CODEC_H265 */
    int width, height;    /**< required: even, 16..8192 */
    int fps;              /**< nominal frame rate for rate control, 1..240; default 25 */
    int64_t bit_rate;     /**< bits/s; 0: 0.1 bit per pixel per frame */
    nl_hw_rc rc;          /**< default NL_HW_RC_VBR */
    int qp;               /**< NL_HW_RC_CQP quantiser 1..51; 0: 26 */
    int gop;              /**< frames from one IDR to the next; 0: 2 s worth */
    nl_hwaccel hwaccel;   /**< default AUTO */
    const char *device;   /**< VAAPI render node; NULL: the first /dev/dri/renderD* */
    const char *preset;   /**< software preset; NULL: "veryfast" (x264), "ultrafast" (x265) */
    int threads;          /**< software encoder threads; 0: libav's choice */
    AVRational time_base; /**< of the frames' pts (and the packets'); {0,0}: 1/1000000 */
} nl_hwenc_config;

/** Fills cfg with the defaults (width/height 0: the caller must set them). Any thread. */
NL_EXPORT void nl_hwenc_config_init(nl_hwenc_config *cfg);

/**
 * Opens an encode context, trying VAAPI first when cfg->hwaccel allows it.
 *
 * @param out   receives the context; NULL on failure. Close it with nl_hwenc_close().
 * @param ctx   log context (borrowed; must outlive the context)
 * @param owner optional arena (borrowed): destroying it closes the context
 *              (as nl_hwenc_close with a 2 s deadline). Must belong to the
 *              calling thread.
 * @param cfg   settings (strings are copied)
 * @return 0; NL_EINVAL / NL_ECONFIG for bad settings; NL_EHW when VAAPI was
 *         forced and failed (the log says which step); NL_ECODEC when no
 *         encoder could be opened; NL_ENOMEM.
 * Blocks while the device and encoder open (milliseconds; longer with some
 * drivers): not on the loop thread. Any thread.
 */
NL_EXPORT int nl_hwenc_open(nl_hwenc **out, nl_ctx *ctx, nl_arena *owner,
                            const nl_hwenc_config *cfg);

/**
 * Closes a context: releases every frame, packet, codec, frames-context and
 * device reference, then sets *enc to NULL. NULL and a pointer to NULL are
 * no-ops. With timeout_ms == NL_HW_WAIT_FOREVER the work runs on the calling
 * thread; otherwise on a helper thread joined within timeout_ms, and when
 * that deadline passes the helper is detached and counted in
 * workers_abandoned (it frees the context whenever libav returns).
 * @return 0, or NL_ETIMEDOUT when the close was abandoned.
 * Same thread as nl_hwenc_open's owner arena (any thread without one).
 * Blocks at most timeout_ms.
 */
NL_EXPORT int nl_hwenc_close(nl_hwenc **enc, uint32_t timeout_ms);

/** The backend the context got. Any thread after open. */
NL_EXPORT nl_hw_backend nl_hwenc_backend(const nl_hwenc *enc);

/** libav's encoder name: "h264_vaapi", "hevc_vaapi", "libx264" or "libx265". */
NL_EXPORT const char *nl_hwenc_encoder_name(const nl_hwenc *enc);

/**
 * Why an AUTO context is not on VAAPI, e.g. "device missing: /dev/dri/renderD128:
 * No such file or directory" or "device init: ..." ("" when on VAAPI or
 * when software was asked for). Borrowed; valid until close.
 */
NL_EXPORT const char *nl_hwenc_fallback_reason(const nl_hwenc *enc);

/**
 * Sends one software frame (any size and pixel format: it is converted to
 * the context's size and format first when needed; pts in cfg->time_base),
 * or NULL to flush. VAAPI frames of the context's size are taken as they are.
 * The frame is borrowed. A frame whose pict_type is AV_PICTURE_TYPE_I asks
 * for a key frame (IDR) there; leave it NONE to follow the GOP.
 * @return 0, NL_EAGAIN when packets must be received first, NL_EEOF after a
 *         flush, NL_ELIBAV, NL_ENOMEM. Blocks while encoding (not the loop).
 */
NL_EXPORT int nl_hwenc_send_frame(nl_hwenc *enc, const AVFrame *frame);

/**
 * Takes the next packet into pkt (which must be empty; the caller owns the
 * new reference): Annex B, pts/dts in cfg->time_base, AV_PKT_FLAG_KEY on IDRs.
 * @return 0, NL_EAGAIN (send more frames), NL_EEOF (flushed and drained),
 *         NL_ELIBAV.
 */
NL_EXPORT int nl_hwenc_receive_packet(nl_hwenc *enc, AVPacket *pkt);

/**
 * Fills par (codec id, size, profile/level, Annex-B extradata with the
 * parameter sets) for an RTP muxer / SDP. par's previous extradata is freed.
 * @return 0 or NL_ENOMEM. Same thread rules as send/receive.
 */
NL_EXPORT int nl_hwenc_codec_params(const nl_hwenc *enc, AVCodecParameters *par);

/* ================================================================ transcoder */

typedef struct nl_transcoder nl_transcoder;

/** Counters of one transcoder. */
typedef struct nl_transcoder_stats {
    uint64_t packets_in;      /**< packets accepted by nl_transcoder_push */
    uint64_t packets_dropped; /**< input packets dropped by the full queue */
    uint64_t gops_dropped;    /**< times the input queue skipped to a key frame */
    uint64_t frames_decoded;  /**< decoded frames */
    uint64_t decode_errors;   /**< packets the decoder refused (stream goes on) */
    uint64_t frames_skipped;  /**< frames left out to meet the output fps */
    uint64_t packets_out;     /**< encoded packets produced */
    uint64_t out_dropped;     /**< encoded packets dropped by the full output queue */
    unsigned queue_depth;     /**< input packets waiting now */
    nl_hw_backend backend;    /**< NONE until the encoder opened */
    int width, height;        /**< output size, 0 until the encoder opened */
    int error;                /**< the fatal error that stopped the worker, or 0 */
} nl_transcoder_stats;

/**
 * Transcoder settings (the "transcode" block of a camera stream's config).
 * Fill with nl_transcoder_config_init(), then set what you need.
 */
typedef struct nl_transcoder_config {
    const char *name;           /**< log label ("transcode NAME") */
    nl_media_codec input_codec; /**< H264 or H265 Annex-B access units (required) */
    nl_media_codec codec;       /**< output: H264 (default) or H265 */
    int width, height;          /**< output size; 0,0: the input's; one of them 0:
                                     keep the aspect ratio. Rounded to even. */
    int fps;                    /**< output frame rate cap; 0: keep every frame */
    int64_t bit_rate;           /**< bits/s; 0: 0.1 bit per pixel per frame */
    nl_hw_rc rc;
    int qp;
    int gop;                  /**< frames between IDRs; 0: 2 s worth */
    nl_hwaccel hwaccel;       /**< for the encoder; the decoder uses VAAPI when it works */
    const char *device;       /**< VAAPI render node; NULL: automatic */
    const char *preset;       /**< software preset (see nl_hwenc_config) */
    int threads;              /**< decoder and encoder threads each; 0: libav's choice */
    unsigned queue_packets;   /**< input queue capacity; 0: 64 */
    unsigned output_packets;  /**< output queue capacity; 0: 64 */
    uint32_t stop_timeout_ms; /**< deadline of nl_transcoder_destroy; 0: 1000 */
    /** Pull mode only: nl_transcoder_push waits up to this long for room
     *  before it drops (batch jobs, benchmarks). 0: never wait (live). */
    uint32_t push_wait_ms;

    /** Loop mode: the loop the callbacks run on (borrowed; must outlive the
     *  transcoder). NULL: pull mode, packets are taken with
     *  nl_transcoder_receive() and no callback is called. */
    nl_loop *loop;
    void *ud; /**< passed to the callbacks */
    /** Loop thread: the output's codec parameters (with extradata for the
     *  SDP), once, before the first packet. `par` is borrowed. */
    void (*on_params)(void *ud, nl_transcoder *t, const AVCodecParameters *par);
    /** Loop thread: one encoded access unit (Annex B, pts/dts in µs, the
     *  input's clock; AV_PKT_FLAG_KEY on IDRs). Borrowed: keep it with
     *  av_packet_ref() or take it with av_packet_move_ref(). */
    void (*on_packet)(void *ud, nl_transcoder *t, AVPacket *pkt);
    /** Loop thread: the worker ended, after nl_transcoder_finish (error 0,
     *  every packet delivered) or on a fatal error (negative code). */
    void (*on_end)(void *ud, nl_transcoder *t, int error);
} nl_transcoder_config;

/** Fills cfg with the defaults. Any thread. */
NL_EXPORT void nl_transcoder_config_init(nl_transcoder_config *cfg);

/**
 * Creates a transcoder and starts its worker thread. The decoder and the
 * encoder are opened on the worker (the encoder at the first decoded frame,
 * when the input size is known).
 * @param owner optional arena (borrowed) whose destruction destroys the
 *              transcoder; must belong to the calling thread.
 * @return 0, NL_EINVAL / NL_ECONFIG (settings), NL_ENOMEM, or a negative
 *         errno when the thread or the wakeup fd cannot be made.
 * Loop mode: the loop thread. Pull mode: any one thread. Never blocks.
 */
NL_EXPORT int nl_transcoder_create(nl_transcoder **out, nl_ctx *ctx, nl_arena *owner,
                                   const nl_transcoder_config *cfg);

/**
 * Queues one input access unit (Annex B, pts in µs; AV_PKT_FLAG_KEY on key
 * frames). The packet is borrowed: the queue takes its own reference. When
 * the queue is full the packet is dropped and so is everything up to the
 * next key frame that fits (the decoder never sees a broken GOP).
 * @return 0 queued, 1 dropped, NL_ESTATE after nl_transcoder_finish or a
 *         fatal error, NL_ENOMEM.
 * Never blocks, except in pull mode with push_wait_ms set.
 */
NL_EXPORT int nl_transcoder_push(nl_transcoder *t, const AVPacket *pkt);

/**
 * Declares the end of the input: the worker drains the decoder and the
 * encoder, then ends (on_end with 0, or NL_EEOF from nl_transcoder_receive).
 * @return 0 or NL_ESTATE when already finished. Never blocks.
 */
NL_EXPORT int nl_transcoder_finish(nl_transcoder *t);

/**
 * Pull mode: takes the next encoded packet into pkt (empty on entry; the
 * caller owns the new reference), waiting up to timeout_ms.
 * @return 0, NL_EAGAIN (nothing within the timeout), NL_EEOF (finished and
 *         drained), the worker's fatal error, NL_EINVAL in loop mode.
 */
NL_EXPORT int nl_transcoder_receive(nl_transcoder *t, AVPacket *pkt, uint32_t timeout_ms);

/**
 * The output's codec parameters (see on_params). par's previous extradata
 * is freed. @return 0, NL_EAGAIN until the encoder opened, NL_ENOMEM.
 * Same thread as push. Never blocks.
 */
NL_EXPORT int nl_transcoder_codec_params(nl_transcoder *t, AVCodecParameters *par);

/** Copies the counters (size = sizeof *st). @return 0 or NL_EINVAL. Same thread as push. */
NL_EXPORT int nl_transcoder_get_stats(nl_transcoder *t, nl_transcoder_stats *st, size_t size);

/**
 * Stops the worker (a flag), drops what is queued, and joins it within
 * stop_timeout_ms. A worker that misses the deadline (stuck inside a codec)
 * is detached, counted in workers_abandoned and logged with what it was
 * doing; it frees its codecs whenever it returns and never calls back. No
 * callback runs after this returns. Sets *t to NULL; NULL-safe. May be called
 * from the transcoder's own callbacks.
 * @return 0, or NL_ETIMEDOUT when the worker was abandoned.
 * Same thread as push. Blocks at most stop_timeout_ms.
 */
NL_EXPORT int nl_transcoder_destroy(nl_transcoder **t);

/* ================================================================ audio conversion */

typedef struct nl_audio_conv nl_audio_conv;

/** What the converter outputs. */
typedef enum nl_audio_out {
    NL_AUDIO_OUT_AAC = 0,  /**< AAC-LC (libavcodec's native encoder), raw access units */
    NL_AUDIO_OUT_PCMU = 1, /**< G.711 mu-law, 8 kHz mono (RTP payload type 0) */
    NL_AUDIO_OUT_PCMA = 2, /**< G.711 A-law, 8 kHz mono (RTP payload type 8) */
} nl_audio_out;

/** Parses "aac", "pcmu" or "pcma". Returns the value or NL_EINVAL. Any thread. */
NL_EXPORT int nl_audio_out_parse(const char *name);

/** Converter settings; zero-initialise, then set what you need. */
typedef struct nl_audio_conv_config {
    const char *name;     /**< log label */
    nl_media_codec input; /**< NL_MEDIA_CODEC_ADPCM (8 kHz mono Reolink blocks) or
                               NL_MEDIA_CODEC_AAC (raw AUs, passed through) */
    nl_audio_out output;  /**< AAC input only allows NL_AUDIO_OUT_AAC */
    int64_t bit_rate;     /**< AAC from ADPCM: bits/s; 0: 24000 */
    /** AAC input: the stream's AudioSpecificConfig (from the demuxer), copied
     *  into the output parameters. */
    const uint8_t *input_asc;
    size_t input_asc_len;
} nl_audio_conv_config;

/**
 * Creates a converter. @return 0, NL_EINVAL, NL_ENOTSUP (AAC to G.711),
 * NL_ECODEC (encoder missing), NL_ENOMEM. Any thread; never blocks.
 */
NL_EXPORT int nl_audio_conv_create(nl_audio_conv **out, nl_ctx *ctx,
                                   const nl_audio_conv_config *cfg);

/** Frees the converter and sets *c to NULL. NULL-safe. */
NL_EXPORT void nl_audio_conv_destroy(nl_audio_conv **c);

/**
 * Converts one input packet (borrowed): a Reolink ADPCM block (any length
 * >= 4, normally 244 bytes = 480 samples) or an AAC access unit. pts is in
 * µs (AV_NOPTS_VALUE allowed: the sample count continues). ADPCM -> AAC
 * buffers PCM across blocks and emits an AAC frame per 1024 samples; ADPCM
 * -> G.711 emits one packet per block.
 * @return 0, NL_EINVAL (bad block), NL_ELIBAV, NL_ENOMEM.
 * Cheap (microseconds per block, see docs/internals/HWENC.md), so it may run
 * on the loop thread. One thread at a time.
 */
NL_EXPORT int nl_audio_conv_push(nl_audio_conv *c, const AVPacket *in);

/**
 * Declares the end of input: the AAC encoder pads and emits what it holds.
 * @return 0 or NL_ELIBAV.
 */
NL_EXPORT int nl_audio_conv_flush(nl_audio_conv *c);

/**
 * Takes the next output packet into pkt (empty on entry; caller owns the new
 * reference): pts/dts in µs on the input's clock, duration set.
 * @return 0, NL_EAGAIN (push more), NL_EEOF (flushed and drained).
 */
NL_EXPORT int nl_audio_conv_receive(nl_audio_conv *c, AVPacket *pkt);

/**
 * Output codec parameters for the RTP muxer / SDP: AAC with its 2-byte
 * AudioSpecificConfig, or PCM_MULAW / PCM_ALAW 8 kHz mono. par's previous
 * extradata is freed. @return 0 or NL_ENOMEM.
 */
NL_EXPORT int nl_audio_conv_codec_params(const nl_audio_conv *c, AVCodecParameters *par);

/* ================================================================ snapshots */

typedef struct nl_snapshot nl_snapshot;

/** Snapshot settings; zero-initialise, then set what you need. */
typedef struct nl_snapshot_config {
    int width, height; /**< JPEG size; 0,0: the video's; one 0: keep the aspect ratio */
    int quality;       /**< JPEG quantiser 2 (best) .. 31; 0: 3 */
    /** A JPEG younger than this is returned again even when a newer key frame
     *  came (caps the decode rate under many requests); 0: 1000. A JPEG of
     *  the latest key frame is always reused, whatever its age. */
    uint32_t cache_ms;
} nl_snapshot_config;

/** What the latest JPEG shows. */
typedef struct nl_snapshot_info {
    int width, height; /**< JPEG size */
    int64_t pts;       /**< pts of the key frame it shows (µs, the stream's clock;
                            for nl_snapshot_feed: the access unit's index) */
    int cached;        /**< 1 when it came from the cache */
} nl_snapshot_info;

/** Creates a snapshot source. @return 0, NL_EINVAL, NL_ENOMEM. Any thread. */
NL_EXPORT int nl_snapshot_create(nl_snapshot **out, nl_ctx *ctx, const nl_snapshot_config *cfg);

/** Frees it and sets *s to NULL. NULL-safe. No other call may be running. */
NL_EXPORT void nl_snapshot_destroy(nl_snapshot **s);

/**
 * Offers a video access unit (borrowed; Annex B H.264/H.265). Only key frames
 * are kept (one reference to the latest; the previous one is released), so
 * this is cheap enough for the loop thread.
 * @return 1 kept, 0 ignored (not a key frame), NL_EINVAL, NL_ENOMEM.
 * Any thread (a short mutex).
 */
NL_EXPORT int nl_snapshot_push(nl_snapshot *s, nl_media_codec codec, const AVPacket *pkt);

/**
 * Sets the out-of-band parameter sets (Annex B, e.g. the extradata from
 * nl_camera's on_params), used when a key frame does not carry its own.
 * Copied. @return 0, NL_EINVAL, NL_ENOMEM. Any thread.
 */
NL_EXPORT int nl_snapshot_set_extradata(nl_snapshot *s, const uint8_t *data, size_t len);

/**
 * Offers raw elementary-stream bytes (an .h264/.h265 file read in chunks of
 * any size); access units are found with libavcodec's parser and key frames
 * kept as by nl_snapshot_push.
 * @return the number of key frames kept so far (>= 0), NL_EINVAL, NL_ENOMEM.
 * Any thread, one feeder at a time. data == NULL, len == 0 ends the stream.
 */
NL_EXPORT int nl_snapshot_feed(nl_snapshot *s, nl_media_codec codec, const uint8_t *data,
                               size_t len);

/**
 * Returns the latest key frame as a JPEG: decoded on demand (full-range
 * yuvj420p, libavcodec's mjpeg encoder) or taken from the cache.
 * @param jpeg  receives a buffer the caller frees with nl_snapshot_free_jpeg()
 * @param len   its length
 * @param info  may be NULL
 * @return 0, NL_EAGAIN when no key frame was seen yet, NL_ECODEC when it
 *         cannot be decoded, NL_ENOMEM.
 * Blocks while decoding (milliseconds): not on the loop thread. Any thread.
 */
NL_EXPORT int nl_snapshot_get(nl_snapshot *s, uint8_t **jpeg, size_t *len, nl_snapshot_info *info);

/** Frees a JPEG from nl_snapshot_get() and sets *jpeg to NULL. NULL-safe. */
NL_EXPORT void nl_snapshot_free_jpeg(uint8_t **jpeg);

#ifdef __cplusplus
}
#endif
#endif
