/**
 * @file media.h
 * BcMedia: the media stream a Reolink camera sends inside its "video" messages
 * (Baichuan msg 3), turned into libav packets.
 *
 * A camera's msg-3 payloads, concatenated in order, form one byte stream of
 * BcMedia packets: Info (stream description), I-frames and P-frames
 * (H.264/H.265 Annex-B), AAC (ADTS) and ADPCM (Reolink DVI-4) audio. Packets
 * cross message boundaries, so the demuxer here is incremental: feed it bytes
 * in chunks of any size and take complete packets out.
 *
 * Output packets are reference-counted AVPackets (time base 1/1000000):
 *  - video: one access unit, Annex-B, pts = dts = the camera's microsecond
 *    clock unwrapped to 64 bits, AV_PKT_FLAG_KEY on I-frames, stream_index 0;
 *  - AAC: one raw access unit per packet (ADTS header stripped; a BcMedia AAC
 *    packet holding several ADTS frames yields several packets), stream_index 1;
 *  - ADPCM: one DVI-4 block (4-byte state header + packed samples, high nibble
 *    first), stream_index 1; decode it with nl_media_adpcm_decode();
 *  - Info: no data; the description is in nl_media_meta.info.
 * Audio packets carry no time on the wire. Their pts counts samples from the
 * latest video timestamp, so audio and video share the camera clock; before
 * the first video packet audio pts is AV_NOPTS_VALUE.
 *
 * Bad input is normal input: a garbled or foreign byte never stops the
 * demuxer. It skips forward to the next plausible packet header, counts the
 * skipped bytes (nl_media_stats.bytes_skipped) and marks the next packet with
 * NL_MEDIA_FLAG_RESYNC. Every size is capped, so memory stays bounded.
 *
 * Threads: a demuxer is not thread-safe; use each one from one thread at a
 * time. Nothing here blocks or does I/O. Including this header requires
 * libavcodec's headers; calling av_* functions on the packets requires
 * linking libavcodec/libavutil.
 */
#ifndef NEOLINK_MEDIA_H
#define NEOLINK_MEDIA_H

#include <stddef.h>
#include <stdint.h>

#include <libavcodec/codec_par.h>
#include <libavcodec/packet.h>

#include "neolink/common.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Opaque incremental BcMedia demuxer. */
typedef struct nl_media_demux nl_media_demux;

/** What a BcMedia packet is (its magic). */
typedef enum nl_media_kind {
    NL_MEDIA_KIND_NONE = 0,
    NL_MEDIA_KIND_INFO = 1,   /**< "1001"/"1002": stream description */
    NL_MEDIA_KIND_IFRAME = 2, /**< "n0dc": key frame */
    NL_MEDIA_KIND_PFRAME = 3, /**< "n1dc": predicted frame */
    NL_MEDIA_KIND_AAC = 4,    /**< "05wb": AAC in ADTS */
    NL_MEDIA_KIND_ADPCM = 5,  /**< "01wb": Reolink DVI-4 ADPCM */
    NL_MEDIA_KIND_COUNT = 6,
} nl_media_kind;

/** Codec of a packet's payload. */
typedef enum nl_media_codec {
    NL_MEDIA_CODEC_NONE = 0,
    NL_MEDIA_CODEC_H264 = 1,
    NL_MEDIA_CODEC_H265 = 2,
    NL_MEDIA_CODEC_AAC = 3,
    NL_MEDIA_CODEC_ADPCM = 4,
} nl_media_codec;

/** A calendar time as the camera sends it: its LOCAL time, not UTC. */
typedef struct nl_media_time {
    int year; /**< full year, e.g. 2021 */
    int month, day, hour, minute, second;
} nl_media_time;

/** The Info packet: what the camera says about the stream. */
typedef struct nl_media_info {
    int version;              /**< 1 (InfoV1) or 2 (InfoV2) */
    uint32_t width, height;   /**< pixels, as announced (the SPS is authoritative) */
    unsigned fps;             /**< frames per second (some models: an index) */
    unsigned unknown16;       /**< byte 16, seen 0/1 */
    nl_media_time start, end; /**< camera local time */
} nl_media_info;

/** Flags in nl_media_meta.flags. */
enum {
    /** Bytes were skipped before this packet (see meta.skipped_before). */
    NL_MEDIA_FLAG_RESYNC = 1 << 0,
    /** The camera clock jumped back more than 1 s (camera reboot?). The
     *  demuxer kept pts monotonic by continuing one frame interval after the
     *  previous packet; the caller may want to resynchronise outputs. */
    NL_MEDIA_FLAG_CLOCK_RESET = 1 << 1,
    /** The camera clock stepped back by at most 1 s; pts went back by as much. */
    NL_MEDIA_FLAG_CLOCK_BACK = 1 << 2,
    /** This video packet carries parameter sets (SPS/PPS, +VPS for H.265). */
    NL_MEDIA_FLAG_HAS_PARAMS = 1 << 3,
    /** The codec parameters of this packet's stream changed with it (video:
     *  new SPS/PPS/VPS, e.g. a new resolution or codec; audio: rate, channels
     *  or AudioSpecificConfig): fetch them again before muxing it. */
    NL_MEDIA_FLAG_PARAMS_CHANGED = 1 << 4,
    /** Packets were lost before this one (allocation failure or an unusable
     *  payload); see nl_media_stats.packets_dropped. */
    NL_MEDIA_FLAG_LOSS = 1 << 5,
};

/** Longest additional video header copied into nl_media_meta.extra. */
#define NL_MEDIA_EXTRA_MAX 64

/** Per-packet metadata returned beside each AVPacket. */
typedef struct nl_media_meta {
    nl_media_kind kind;
    nl_media_codec codec;
    unsigned channel;                  /**< video: the digit of the magic ("0dc" -> 0) */
    uint32_t flags;                    /**< NL_MEDIA_FLAG_* */
    int64_t pts_us;                    /**< same as the packet's pts (µs), or AV_NOPTS_VALUE */
    uint32_t camera_us;                /**< video: the raw 32-bit µs stamp from the wire */
    int64_t posix_time;                /**< I-frames: UTC seconds from the extra header; else -1 */
    uint32_t payload_size;             /**< the packet's payload_size field as on the wire */
    uint32_t unknown20;                /**< video: bytes 20..23 (meaning unknown) */
    uint32_t extra_len;                /**< video: length of the additional header */
    uint8_t extra[NL_MEDIA_EXTRA_MAX]; /**< its first bytes (min(extra_len, max)) */
    uint64_t skipped_before;           /**< bytes skipped just before this packet */
    int sample_rate;                   /**< audio: Hz */
    int channels;                      /**< audio: channel count */
    int nb_samples;                    /**< audio: samples per channel in this packet */
    int sub_index, sub_count;          /**< AAC: frame k of n in one BcMedia packet */
    nl_media_info info;                /**< kind == INFO: the description */
} nl_media_meta;

/** Counters since creation (nl_media_demux_reset keeps them). */
typedef struct nl_media_stats {
    uint64_t packets[NL_MEDIA_KIND_COUNT]; /**< BcMedia packets parsed, by kind */
    uint64_t aac_frames;                   /**< AAC access units output */
    uint64_t bytes_fed;                    /**< bytes consumed by feed */
    uint64_t bytes_skipped;                /**< bytes thrown away while resynchronising */
    uint64_t resyncs;                      /**< times the demuxer had to search for a header */
    uint64_t packets_dropped; /**< packets parsed but not output (no memory, bad ADTS) */
    uint64_t clock_resets;    /**< NL_MEDIA_FLAG_CLOCK_RESET events */
    uint64_t clock_backsteps; /**< NL_MEDIA_FLAG_CLOCK_BACK events */
} nl_media_stats;

/** Video format derived from the in-band parameter sets. */
typedef struct nl_media_video_format {
    nl_media_codec codec; /**< NL_MEDIA_CODEC_NONE until a video packet arrived */
    int width, height;    /**< from the SPS (cropped); 0 when unknown */
    int profile, level;   /**< libavcodec numbering; -99 when unknown */
    int have_params;      /**< 1 when SPS+PPS (+VPS) are cached */
    unsigned generation;  /**< increments each time the parameter sets change */
} nl_media_video_format;

/** Audio format derived from the stream. */
typedef struct nl_media_audio_format {
    nl_media_codec codec; /**< NL_MEDIA_CODEC_NONE until an audio packet arrived */
    int sample_rate;      /**< Hz (ADPCM: 8000) */
    int channels;         /**< ADPCM: 1 */
    uint8_t asc[2];       /**< AAC: the AudioSpecificConfig */
    int asc_len;          /**< 2 for AAC, 0 otherwise */
} nl_media_audio_format;

/** Options for nl_media_demux_create; zero-initialise. */
typedef struct nl_media_demux_config {
    /** Largest accepted video payload in bytes; 0 or anything above 4 MiB means
     *  4 MiB. A bigger size field is treated as garbage (resync). */
    uint32_t max_video_payload;
} nl_media_demux_config;

/**
 * Creates a demuxer. cfg may be NULL for defaults.
 * Returns 0 and sets *out, or NL_ENOMEM / NL_EINVAL. Any thread; never blocks.
 * Caller must free with nl_media_demux_destroy().
 */
NL_EXPORT int nl_media_demux_create(nl_media_demux **out, const nl_media_demux_config *cfg);

/**
 * Destroys a demuxer and sets *d to NULL; NULL and a pointer to NULL are
 * no-ops. Packets the caller still references stay valid (their buffers are
 * reference-counted and outlive the demuxer).
 */
NL_EXPORT void nl_media_demux_destroy(nl_media_demux **d);

/**
 * Consumes stream bytes. Data is copied; the caller keeps ownership of it.
 *
 * It stops early when a complete packet is waiting to be taken with
 * nl_media_demux_next(), so the usual loop is:
 *
 *     while (len > 0) {
 *         size_t used;
 *         rc = nl_media_demux_feed(d, data, len, &used);  // rc < 0: see below
 *         data += used; len -= used;
 *         while (nl_media_demux_next(d, &pkt, &meta) > 0)
 *             use(pkt, &meta);
 *     }
 *
 * @param consumed  always set: bytes used from data (may be < len)
 * @return 0, NL_EINVAL on bad arguments, or NL_ENOMEM when a packet had to be
 *         dropped for lack of memory (the demuxer stays usable; *consumed is
 *         valid; the next packet carries NL_MEDIA_FLAG_LOSS).
 */
NL_EXPORT int nl_media_demux_feed(nl_media_demux *d, const uint8_t *data, size_t len,
                                  size_t *consumed);

/**
 * Takes the next complete packet.
 *
 * @param pkt   set to a packet owned by the demuxer, valid until the next call
 *              to any nl_media_demux_* function on d. Keep it with
 *              av_packet_ref(), or take it over with av_packet_move_ref().
 * @param meta  filled with the packet's metadata (may be NULL)
 * @return 1 when a packet was returned, 0 when more input is needed,
 *         NL_EINVAL on bad arguments, NL_ENOMEM.
 */
NL_EXPORT int nl_media_demux_next(nl_media_demux *d, AVPacket **pkt, nl_media_meta *meta);

/**
 * Declares the end of the input. A packet still waiting for next() stays
 * available; an incomplete packet is thrown away and counted as skipped.
 * The demuxer can then be fed a new stream (clocks and formats are kept;
 * use nl_media_demux_reset() to forget them).
 * @return 0 when the input ended on a packet boundary, NL_EEOF when it ended
 *         inside a packet.
 */
NL_EXPORT int nl_media_demux_finish(nl_media_demux *d);

/**
 * Forgets everything about the current stream (partial and waiting packets,
 * clocks, formats, Info) so the demuxer can parse a new one, e.g. after a
 * reconnect. Counters are kept.
 */
NL_EXPORT void nl_media_demux_reset(nl_media_demux *d);

/** Copies the counters into *st. */
NL_EXPORT void nl_media_demux_stats(const nl_media_demux *d, nl_media_stats *st);

/** Latest Info packet. Returns 0, or NL_EAGAIN when none was seen yet. */
NL_EXPORT int nl_media_demux_info(const nl_media_demux *d, nl_media_info *info);

/** Current video format (always succeeds; fields are 0/-99 when unknown). */
NL_EXPORT void nl_media_demux_video_format(const nl_media_demux *d, nl_media_video_format *f);

/** Current audio format (always succeeds; codec NONE when no audio yet). */
NL_EXPORT void nl_media_demux_audio_format(const nl_media_demux *d, nl_media_audio_format *f);

/**
 * Fills par for the video stream: codec_id, width, height, profile, level and
 * Annex-B extradata (start code + VPS, SPS, PPS) — what an rtp muxer needs.
 * par's previous extradata is freed. Returns 0, NL_EAGAIN when the parameter
 * sets are not known yet, NL_ENOMEM.
 */
NL_EXPORT int nl_media_demux_video_params(const nl_media_demux *d, AVCodecParameters *par);

/**
 * Fills par for an AAC audio stream (codec_id, sample_rate, ch_layout, and
 * the 2-byte AudioSpecificConfig as extradata). Returns 0, NL_EAGAIN when no
 * audio was seen yet, NL_ENOTSUP for ADPCM (decode it with
 * nl_media_adpcm_decode() and describe the PCM yourself), NL_ENOMEM.
 */
NL_EXPORT int nl_media_demux_audio_params(const nl_media_demux *d, AVCodecParameters *par);

/**
 * Makes sure a key frame starts with the parameter sets: when pkt is an
 * IDR/IRAP access unit that lacks SPS/PPS (or VPS for H.265), replaces its
 * buffer by one with the cached sets in front (timestamps and flags kept).
 * @return 1 when sets were prepended, 0 when nothing was needed, NL_EAGAIN
 *         when the demuxer knows no complete set yet, NL_ENOMEM.
 */
NL_EXPORT int nl_media_demux_ensure_params(const nl_media_demux *d, AVPacket *pkt);

/**
 * Decodes one Reolink ADPCM block (an ADPCM packet's data: i16 LE predictor,
 * u8 step index, u8 0, then 4-bit samples, high nibble first) into 16-bit
 * PCM at 8000 Hz mono. A 244-byte block gives 480 samples.
 * @return the number of samples written, NL_EINVAL (block shorter than 4
 *         bytes or step index > 88), NL_ETOOBIG when out_cap is too small.
 * Any thread; never blocks.
 */
NL_EXPORT int nl_media_adpcm_decode(const uint8_t *block, size_t len, int16_t *out, size_t out_cap);

/** "info", "iframe", "pframe", "aac", "adpcm" or "none". Static string. */
NL_EXPORT const char *nl_media_kind_name(nl_media_kind kind);

/** "H264", "H265", "AAC", "ADPCM" or "none". Static string. */
NL_EXPORT const char *nl_media_codec_name(nl_media_codec codec);

#ifdef __cplusplus
}
#endif
#endif
