/* Size and pixel format conversion with swscale, one reusable output frame.
 *
 * The output frame's buffers are allocated once per geometry and reused: an
 * encoder that took a reference during send_frame has dropped it by the time
 * its packets were received, so the frame is writable again on the next call
 * and steady-state conversion allocates nothing. */
#ifndef NL_HW_SCALER_H
#define NL_HW_SCALER_H

#include <libavutil/frame.h>
#include <libavutil/pixfmt.h>

struct SwsContext;

typedef struct nl__scaler {
    struct SwsContext *sws;
    int key[8]; /* geometry, formats and ranges the context was made for */
    AVFrame *dst;
} nl__scaler;

/* Largest output side accepted by nl__hw_fit_size callers. */
#define NL_HW_MAX_SIDE 8192

void nl__scaler_init(nl__scaler *s);
void nl__scaler_free(nl__scaler *s);

/* Makes src w x h in format fmt. *out is src itself when it already is, else
 * the scaler's frame (valid until the next call; pts, duration, flags and
 * colour properties copied from src, colour range set to fmt's). Full-range
 * input (AVCOL_RANGE_JPEG or a yuvj format) is converted as such. Returns 0,
 * NL_ENOMEM, NL_ELIBAV (swscale refused the formats). */
int nl__scaler_convert(nl__scaler *s, const AVFrame *src, int w, int h, enum AVPixelFormat fmt,
                       const AVFrame **out);

/* The output size for an input of in_w x in_h: want_w x want_h when both are
 * set; the input's aspect ratio when only one is; the input size when none.
 * Always even and at least 2 (odd sizes round down; encoders and 4:2:0 want
 * even ones). Pure function. */
void nl__hw_fit_size(int in_w, int in_h, int want_w, int want_h, int *out_w, int *out_h);

#endif
