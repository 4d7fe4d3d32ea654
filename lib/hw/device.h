/* VAAPI devices: find a render node, open it through libavutil
 * (av_hwdevice_ctx_create, which uses libva-drm), and ask the driver what it
 * can encode (libva's entrypoint list).
 *
 * Failures come back as NL_EHW plus a reason that names the step, the words
 * the fallback log and nl_hwenc_fallback_reason() use:
 *   "device missing: ..."  no render node / the given path does not exist
 *   "device init: ..."     libva could not initialise a display on it
 *   "encoder open: ..."    the driver has no encode entrypoint for the codec
 *
 * Every reference this returns is counted (devices_opened) and must be
 * released with nl__hw_device_release (devices_closed). Any thread; opening
 * blocks while libva loads and initialises its driver. */
#ifndef NL_HW_DEVICE_H
#define NL_HW_DEVICE_H

#include <stddef.h>

#include <libavutil/buffer.h>

#include "neolink/media.h"

#define NL_HW_PATH_MAX   256
#define NL_HW_REASON_MAX 256

/* Writes the first /dev/dri/renderD* (lowest minor) into out. Returns 0, or
 * NL_ENOENT with reason "device missing: ..." filled. `dir` NULL means
 * "/dev/dri" (tests point it elsewhere). */
int nl__hw_find_render_node(const char *dir, char *out, size_t cap, char *reason, size_t rcap);

/* Opens a VAAPI device. path NULL: the first render node. On success *out is
 * a new reference and used_path (may be NULL) names the node. */
int nl__hw_device_open(const char *path, AVBufferRef **out, char *used_path, size_t used_cap,
                       char *reason, size_t rcap);

/* Drops a reference from nl__hw_device_open (counted); NULL-safe. */
void nl__hw_device_release(AVBufferRef **dev);

/* 0 when the driver lists VAEntrypointEncSlice or EncSliceLP for the codec's
 * Main profile; NL_EHW with "encoder open: ..." otherwise. */
int nl__hw_device_check_encode(AVBufferRef *dev, nl_media_codec codec, char *reason, size_t rcap);

#endif
