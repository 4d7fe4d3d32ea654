/* Input decoding for transcoders and snapshots: H.264 / H.265 Annex-B access
 * units to software frames, on VAAPI when a device is given and the driver
 * can decode the stream, else in software.
 *
 * VAAPI decoding is negotiated in get_format: when libavcodec offers
 * AV_PIX_FMT_VAAPI and a device is set, it is picked; if the hwaccel then
 * fails to initialise, libavcodec asks again without it and decoding goes
 * on in software (logged once). Hardware frames are downloaded to NV12 so
 * the scaler and any encoder can take them.
 *
 * One thread at a time; every call may block while decoding. */
#ifndef NL_HW_DECODER_H
#define NL_HW_DECODER_H

#include <stdint.h>

#include <libavcodec/avcodec.h>

#include "neolink/context.h"
#include "neolink/media.h"

typedef struct nl__decoder {
    AVCodecContext *avctx;
    AVFrame *frame;  /* what libavcodec returned */
    AVFrame *sw;     /* download target for VAAPI frames */
    int hw_wanted;   /* a device was given */
    int hw_active;   /* get_format picked VAAPI */
    uint64_t errors; /* packets refused */
    const nl_ctx *ctx;
    const char *who;
} nl__decoder;

/* Opens a decoder for codec (H264/H265). hwdev (borrowed; may be NULL) is a
 * VAAPI device to decode on. threads 0: libav's choice. who is borrowed for
 * log lines. Returns 0, NL_ECODEC, NL_ENOMEM; on failure d is closed. */
int nl__decoder_open(nl__decoder *d, const nl_ctx *ctx, const char *who, nl_media_codec codec,
                     AVBufferRef *hwdev, int threads);
void nl__decoder_close(nl__decoder *d);

/* Sends one access unit (borrowed), or NULL to drain. A packet the decoder
 * refuses as broken is counted in errors and 0 is returned (the stream goes
 * on). Returns 0, NL_EAGAIN (receive frames first), NL_EEOF, NL_ENOMEM. */
int nl__decoder_send(nl__decoder *d, const AVPacket *pkt);

/* Next decoded frame: 0 and *out (software, valid until the next call),
 * NL_EAGAIN, NL_EEOF (drained), NL_ELIBAV. */
int nl__decoder_receive(nl__decoder *d, AVFrame **out);

#endif
