/* BcMedia header parsing and plausibility rules. See bcmedia_wire.h. */
#include "media/bcmedia_wire.h"

#include <string.h>

#include "neolink/error.h"

int nl__bcm_magic_prefix_ok(const uint8_t *p, size_t n)
{
    /* Magics: "n0dc" "n1dc" (video, n a digit), "05wb" "01wb" (audio),
     * "1001" "1002" (Info). Every one starts with a digit. */
    if (n == 0)
        return 1;
    if (p[0] < '0' || p[0] > '9')
        return 0;
    if (n == 1)
        return 1;
    if (p[1] != '0' && p[1] != '1' && p[1] != '5')
        return 0;
    if (n == 2)
        return 1;
    switch (p[2]) {
    case 'd':
        return p[1] != '5' && (n == 3 || p[3] == 'c');
    case 'w':
        return p[0] == '0' && p[1] != '0' && (n == 3 || p[3] == 'b');
    case '0':
        return p[0] == '1' && p[1] == '0' && (n == 3 || p[3] == '1' || p[3] == '2');
    default:
        return 0;
    }
}

static nl_media_kind classify(const uint8_t *p)
{
    if (!nl__bcm_magic_prefix_ok(p, 4))
        return NL_MEDIA_KIND_NONE;
    switch (p[2]) {
    case 'd':
        return p[1] == '0' ? NL_MEDIA_KIND_IFRAME : NL_MEDIA_KIND_PFRAME;
    case 'w':
        return p[1] == '5' ? NL_MEDIA_KIND_AAC : NL_MEDIA_KIND_ADPCM;
    default:
        return NL_MEDIA_KIND_INFO;
    }
}

static void read_time(const uint8_t *p, nl_media_time *t)
{
    t->year = 1900 + p[0];
    t->month = p[1];
    t->day = p[2];
    t->hour = p[3];
    t->minute = p[4];
    t->second = p[5];
}

static int time_plausible(const nl_media_time *t)
{
    return t->month <= 12 && t->day <= 31 && t->hour <= 23 && t->minute <= 59 && t->second <= 60;
}

#define NEED(k)                                                                                    \
    do {                                                                                           \
        if (n < (size_t)(k)) {                                                                     \
            *need = (size_t)(k);                                                                   \
            return 0;                                                                              \
        }                                                                                          \
    } while (0)

static int parse_info(const uint8_t *p, size_t n, int strict, nl__bcm_hdr *h, size_t *need)
{
    NEED(NL_BCM_INFO_LEN);
    uint32_t w = nl__bcm_rd32(p + 8), ht = nl__bcm_rd32(p + 12);
    if (nl__bcm_rd32(p + 4) != NL_BCM_INFO_LEN || w > NL_BCM_MAX_DIM || ht > NL_BCM_MAX_DIM)
        return NL_EPROTO;
    nl_media_info *in = &h->info;
    in->version = p[3] - '0';
    in->width = w;
    in->height = ht;
    in->unknown16 = p[16];
    in->fps = p[17];
    read_time(p + 18, &in->start);
    read_time(p + 24, &in->end);
    if (strict && (!time_plausible(&in->start) || !time_plausible(&in->end) || p[16] > 1))
        return NL_EPROTO;
    h->hdr_len = NL_BCM_INFO_LEN;
    return NL_BCM_INFO_LEN;
}

static int is_start_code(const uint8_t *q)
{
    return q[0] == 0 && q[1] == 0 && (q[2] == 1 || (q[2] == 0 && q[3] == 1));
}

static int parse_video(const uint8_t *p, size_t n, int strict, uint32_t max_video, nl__bcm_hdr *h,
                       size_t *need)
{
    NEED(8);
    if (!memcmp(p + 4, "H264", 4))
        h->codec = NL_MEDIA_CODEC_H264;
    else if (!memcmp(p + 4, "H265", 4))
        h->codec = NL_MEDIA_CODEC_H265;
    else
        return NL_EPROTO;
    NEED(16);
    uint32_t size = nl__bcm_rd32(p + 8);
    uint32_t extra = nl__bcm_rd32(p + 12);
    if (size == 0 || size > max_video || extra > NL_BCM_MAX_EXTRA)
        return NL_EPROTO;
    if (strict && (extra % 4 != 0 || size < NL_BCM_PEEK_MAX))
        return NL_EPROTO;
    uint32_t hdr = NL_BCM_VIDEO_HDR_LEN + extra;
    NEED(hdr + (strict ? NL_BCM_PEEK_MAX : 0));
    if (strict && !is_start_code(p + hdr))
        return NL_EPROTO;
    h->channel = (unsigned)(p[0] - '0');
    h->payload_size = size;
    h->payload_len = size;
    h->pad_len = nl__bcm_pad(size);
    h->extra_len = extra;
    h->ts_us = nl__bcm_rd32(p + 16);
    h->unknown20 = nl__bcm_rd32(p + 20);
    memcpy(h->extra, p + NL_BCM_VIDEO_HDR_LEN, extra);
    h->hdr_len = hdr;
    return (int)hdr;
}

static int parse_audio(const uint8_t *p, size_t n, int strict, nl__bcm_hdr *h, size_t *need)
{
    NEED(NL_BCM_AUDIO_HDR_LEN);
    uint16_t size = nl__bcm_rd16(p + 4);
    if (size != nl__bcm_rd16(p + 6))
        return NL_EPROTO;
    h->payload_size = size;
    h->pad_len = nl__bcm_pad(size);
    if (h->kind == NL_MEDIA_KIND_AAC) {
        if (size < 7) /* shortest ADTS header */
            return NL_EPROTO;
        NEED(NL_BCM_AUDIO_HDR_LEN + (strict ? 2 : 0));
        if (strict && (p[8] != 0xff || (p[9] & 0xf6) != 0xf0))
            return NL_EPROTO;
        h->codec = NL_MEDIA_CODEC_AAC;
        h->hdr_len = NL_BCM_AUDIO_HDR_LEN;
        h->payload_len = size;
        return NL_BCM_AUDIO_HDR_LEN;
    }
    /* ADPCM: the size counts the 4-byte sub-header, then a DVI block of at
     * least its own 4-byte header. */
    if (size < NL_BCM_ADPCM_SUBHDR_LEN + 4)
        return NL_EPROTO;
    const uint32_t hdr = NL_BCM_AUDIO_HDR_LEN + NL_BCM_ADPCM_SUBHDR_LEN;
    NEED(hdr + (strict ? 4 : 0));
    if (nl__bcm_rd16(p + 8) != NL_BCM_ADPCM_SUBMAGIC)
        return NL_EPROTO;
    if (strict && p[hdr + 2] > 88)
        return NL_EPROTO;
    h->codec = NL_MEDIA_CODEC_ADPCM;
    h->adpcm_half_block = nl__bcm_rd16(p + 10);
    h->hdr_len = hdr;
    h->payload_len = size - NL_BCM_ADPCM_SUBHDR_LEN;
    return (int)hdr;
}

int nl__bcm_parse_header(const uint8_t *p, size_t n, int strict, uint32_t max_video, nl__bcm_hdr *h,
                         size_t *need)
{
    if (n < 4) {
        if (!nl__bcm_magic_prefix_ok(p, n))
            return NL_EPROTO;
        *need = 4;
        return 0;
    }
    nl_media_kind kind = classify(p);
    if (kind == NL_MEDIA_KIND_NONE)
        return NL_EPROTO;
    memset(h, 0, sizeof *h);
    h->kind = kind;
    switch (kind) {
    case NL_MEDIA_KIND_INFO:
        return parse_info(p, n, strict, h, need);
    case NL_MEDIA_KIND_IFRAME:
    case NL_MEDIA_KIND_PFRAME:
        return parse_video(p, n, strict, max_video, h, need);
    default:
        return parse_audio(p, n, strict, h, need);
    }
}
