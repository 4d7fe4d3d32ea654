/* VAAPI device discovery, opening and probing. See device.h. */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <libavutil/error.h>
#include <libavutil/hwcontext.h>
#include <libavutil/hwcontext_vaapi.h>
#include <va/va.h>

#include "hw/device.h"
#include "hw/hw_stats.h"
#include "neolink/error.h"

/* Render nodes are renderD128..renderD191 on Linux; a bigger number here is
 * just another node, so any decimal suffix is accepted. */
static int render_minor(const char *name)
{
    if (strncmp(name, "renderD", 7) != 0 || !name[7])
        return -1;
    int v = 0;
    for (const char *p = name + 7; *p; p++) {
        if (*p < '0' || *p > '9' || v > 100000)
            return -1;
        v = v * 10 + (*p - '0');
    }
    return v;
}

int nl__hw_find_render_node(const char *dir, char *out, size_t cap, char *reason, size_t rcap)
{
    if (!dir)
        dir = "/dev/dri";
    DIR *d = opendir(dir);
    if (!d) {
        snprintf(reason, rcap, "device missing: %s: %s", dir, strerror(errno));
        return NL_ENOENT;
    }
    int best = -1;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        int m = render_minor(e->d_name);
        if (m >= 0 && (best < 0 || m < best))
            best = m;
    }
    closedir(d);
    if (best < 0) {
        snprintf(reason, rcap, "device missing: no renderD* node in %s", dir);
        return NL_ENOENT;
    }
    if ((size_t)snprintf(out, cap, "%s/renderD%d", dir, best) >= cap) {
        snprintf(reason, rcap, "device missing: render node path too long");
        return NL_ENOENT;
    }
    return 0;
}

int nl__hw_device_open(const char *path, AVBufferRef **out, char *used_path, size_t used_cap,
                       char *reason, size_t rcap)
{
    *out = NULL;
    char found[NL_HW_PATH_MAX];
    if (!path) {
        int rc = nl__hw_find_render_node(NULL, found, sizeof found, reason, rcap);
        if (rc < 0)
            return NL_EHW;
        path = found;
    }
    /* Step 1: the node exists. Checked here so the log says "missing"
     * instead of libva's vaguer "no VA display found". */
    struct stat st;
    if (stat(path, &st) != 0) {
        snprintf(reason, rcap, "device missing: %s: %s", path, strerror(errno));
        return NL_EHW;
    }
    /* Step 2: libva initialises a display on it. */
    AVBufferRef *dev = NULL;
    int err = av_hwdevice_ctx_create(&dev, AV_HWDEVICE_TYPE_VAAPI, path, NULL, 0);
    if (err < 0) {
        char msg[AV_ERROR_MAX_STRING_SIZE];
        av_strerror(err, msg, sizeof msg);
        snprintf(reason, rcap, "device init: av_hwdevice_ctx_create(%s): %s", path, msg);
        return NL_EHW;
    }
    nl__hw_count(NL__HWC_DEV_OPENED, 1);
    if (used_path)
        snprintf(used_path, used_cap, "%s", path);
    *out = dev;
    return 0;
}

void nl__hw_device_release(AVBufferRef **dev)
{
    if (!dev || !*dev)
        return;
    av_buffer_unref(dev);
    nl__hw_count(NL__HWC_DEV_CLOSED, 1);
}

int nl__hw_device_check_encode(AVBufferRef *dev, nl_media_codec codec, char *reason, size_t rcap)
{
    AVHWDeviceContext *hw = (AVHWDeviceContext *)dev->data;
    AVVAAPIDeviceContext *va = hw->hwctx;
    VAProfile profile = codec == NL_MEDIA_CODEC_H265 ? VAProfileHEVCMain : VAProfileH264Main;
    const char *pname = codec == NL_MEDIA_CODEC_H265 ? "HEVC Main" : "H.264 Main";
    int max = vaMaxNumEntrypoints(va->display);
    if (max <= 0 || max > 64) {
        snprintf(reason, rcap, "encoder open: driver reports %d entrypoints", max);
        return NL_EHW;
    }
    VAEntrypoint eps[64];
    int n = 0;
    VAStatus s = vaQueryConfigEntrypoints(va->display, profile, eps, &n);
    if (s != VA_STATUS_SUCCESS) {
        snprintf(reason, rcap, "encoder open: no %s profile in the VAAPI driver (%s)", pname,
                 vaErrorStr(s));
        return NL_EHW;
    }
    for (int i = 0; i < n; i++)
        if (eps[i] == VAEntrypointEncSlice || eps[i] == VAEntrypointEncSliceLP)
            return 0;
    snprintf(reason, rcap,
             "encoder open: the VAAPI driver cannot encode %s (no EncSlice entrypoint)", pname);
    return NL_EHW;
}
