/* Fuzz target for the BcMedia demuxer. The first two input bytes choose how
 * the rest is cut into feed() calls (so packets straddle chunk boundaries in
 * every way) and a small video cap (so the cap path is reached without
 * 4 MiB inputs); the rest is the stream. Every packet is checked for the
 * invariants the demuxer promises, and the codec helpers run on what comes
 * out: parameter sets, prepending, ADPCM decoding. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "neolink/error.h"
#include "neolink/media.h"

static void check(int cond)
{
    if (!cond)
        abort();
}

static void use_packet(nl_media_demux *d, AVPacket *pkt, const nl_media_meta *m)
{
    check(m->kind > NL_MEDIA_KIND_NONE && m->kind < NL_MEDIA_KIND_COUNT);
    if (m->kind == NL_MEDIA_KIND_INFO) {
        check(pkt->size == 0);
        return;
    }
    check(pkt->size > 0 && pkt->buf != NULL);
    check(pkt->data >= pkt->buf->data &&
          pkt->data + pkt->size + 64 <= pkt->buf->data + pkt->buf->size);
    /* Touch every byte so ASan sees any bad range. */
    volatile uint8_t sum = 0;
    for (int i = 0; i < pkt->size; i++)
        sum ^= pkt->data[i];
    (void)sum;
    if (m->kind == NL_MEDIA_KIND_ADPCM) {
        static int16_t pcm[2 * 65536];
        int n = nl_media_adpcm_decode(pkt->data, (size_t)pkt->size, pcm, sizeof pcm / 2);
        check(n == (pkt->size - 4) * 2);
    } else if (m->kind == NL_MEDIA_KIND_IFRAME) {
        int rc = nl_media_demux_ensure_params(d, pkt);
        check(rc == 0 || rc == 1 || rc == NL_EAGAIN);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2)
        return 0;
    size_t chunk_seed = data[0];
    nl_media_demux_config cfg = {.max_video_payload = (data[1] & 1) ? 4096u : 0u};
    data += 2;
    size -= 2;

    nl_media_demux *d = NULL;
    if (nl_media_demux_create(&d, &cfg) < 0)
        return 0;
    size_t off = 0, i = 0;
    while (off < size) {
        /* chunk lengths cycle through 1..(seed+1) with a little variation */
        size_t n = chunk_seed == 0 ? size - off : 1 + (i * 7 + chunk_seed) % (chunk_seed + 1);
        if (n > size - off)
            n = size - off;
        const uint8_t *p = data + off;
        size_t left = n;
        while (left > 0) {
            size_t used = 0;
            int rc = nl_media_demux_feed(d, p, left, &used);
            check(rc == 0 || rc == NL_ENOMEM);
            check(used <= left);
            p += used;
            left -= used;
            AVPacket *pkt;
            nl_media_meta m;
            while ((rc = nl_media_demux_next(d, &pkt, &m)) > 0)
                use_packet(d, pkt, &m);
            check(rc == 0);
        }
        off += n;
        i++;
    }
    int end = nl_media_demux_finish(d);
    check(end == 0 || end == NL_EEOF);
    AVPacket *pkt;
    nl_media_meta m;
    while (nl_media_demux_next(d, &pkt, &m) > 0)
        use_packet(d, pkt, &m);

    nl_media_stats st;
    nl_media_demux_stats(d, &st);
    check(st.bytes_fed == size);
    check(st.bytes_skipped <= size);
    AVCodecParameters *par = avcodec_parameters_alloc();
    if (par) {
        nl_media_demux_video_params(d, par);
        nl_media_demux_audio_params(d, par);
        avcodec_parameters_free(&par);
    }
    nl_media_demux_destroy(&d);
    return 0;
}
