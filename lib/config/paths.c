/* The RTSP paths a camera serves. NVRs and guides written for the original
 * neolink use several spellings of the stream names, so each stream answers
 * to all of them. */
#include <stdio.h>
#include <string.h>

#include "neolink/config.h"

#define ALIASES 6

static const char *const stream_aliases[3][ALIASES] = {
    {"main", "mainStream", "MainStream", "Main", "Mainstream", "mainstream"},
    {"sub", "subStream", "SubStream", "Sub", "Substream", "substream"},
    {"extern", "externStream", "ExternStream", "Extern", "Externstream", "externstream"},
};

static const nl_config_stream stream_of[3] = {NL_CFG_STREAM_MAIN, NL_CFG_STREAM_SUB,
                                              NL_CFG_STREAM_EXTERN};

/* Which of main, sub, extern (in that order) the setting serves. */
static void served(nl_config_stream s, int out[3])
{
    out[0] = s == NL_CFG_STREAM_ALL || s == NL_CFG_STREAM_MAIN || s == NL_CFG_STREAM_BOTH;
    out[1] = s == NL_CFG_STREAM_ALL || s == NL_CFG_STREAM_SUB || s == NL_CFG_STREAM_BOTH;
    out[2] = s == NL_CFG_STREAM_ALL || s == NL_CFG_STREAM_EXTERN;
}

typedef struct list {
    nl_config_path *out;
    size_t cap, n;
} list;

static void add(list *l, nl_config_stream stream, int transcoded, int alias, const char *fmt,
                const char *a, const char *b, const char *c)
{
    if (l->n < l->cap) {
        nl_config_path *p = &l->out[l->n];
        snprintf(p->path, sizeof p->path, fmt, a, b, c);
        p->stream = stream;
        p->transcoded = transcoded;
        p->alias = alias;
    }
    l->n++;
}

NL_EXPORT size_t nl_config_camera_paths(const nl_config_camera *cam, nl_config_path *out,
                                        size_t cap)
{
    if (!cam || !cam->name)
        return 0;
    list l = {out, out ? cap : 0, 0};
    int on[3];
    served(cam->stream, on);
    int first = on[0] ? 0 : on[1] ? 1 : 2;
    const nl_config_transcode *t = cam->transcode;
    int replaced = t && t->replace;
    const char *name = cam->name;

    add(&l, stream_of[first], replaced, 0, "/%s%s%s", name, "", "");
    for (int s = 0; s < 3; s++) {
        if (!on[s])
            continue;
        for (int a = 0; a < ALIASES; a++)
            add(&l, stream_of[s], replaced, a > 0, "/%s/%s%s", name, stream_aliases[s][a], "");
    }
    if (t) {
        const char *codec = nl_config_codec_name(t->codec);
        for (int s = 0; s < 3; s++)
            if (on[s])
                add(&l, stream_of[s], 1, 0, "/%s/%s/%s", name, stream_aliases[s][0], codec);
        add(&l, stream_of[first], 1, 0, "/%s/%s%s", name, codec, "");
    }
    return l.n;
}
