/* BcMedia serializer. See bcmedia_write.h. */
#include "media/bcmedia_write.h"

#include <string.h>

#include "neolink/error.h"

static uint32_t video_extra_len(const nl__bcm_video_desc *v)
{
    return v->keyframe ? NL_BCM_IFRAME_EXTRA_LEN : 0;
}

size_t nl__bcm_video_size(const nl__bcm_video_desc *v, size_t payload_len)
{
    return NL_BCM_VIDEO_HDR_LEN + video_extra_len(v) + payload_len +
           nl__bcm_pad((uint32_t)payload_len);
}

size_t nl__bcm_aac_size(size_t adts_len)
{
    return NL_BCM_AUDIO_HDR_LEN + adts_len + nl__bcm_pad((uint32_t)adts_len);
}

size_t nl__bcm_adpcm_size(size_t block_len)
{
    size_t size = NL_BCM_ADPCM_SUBHDR_LEN + block_len;
    return NL_BCM_AUDIO_HDR_LEN + size + nl__bcm_pad((uint32_t)size);
}

static void write_time(uint8_t *p, const nl_media_time *t)
{
    p[0] = (uint8_t)(t->year - 1900);
    p[1] = (uint8_t)t->month;
    p[2] = (uint8_t)t->day;
    p[3] = (uint8_t)t->hour;
    p[4] = (uint8_t)t->minute;
    p[5] = (uint8_t)t->second;
}

static int time_ok(const nl_media_time *t)
{
    return t->year >= 1900 && t->year <= 1900 + 255 && t->month >= 0 && t->month <= 12 &&
           t->day >= 0 && t->day <= 31 && t->hour >= 0 && t->hour <= 23 && t->minute >= 0 &&
           t->minute <= 59 && t->second >= 0 && t->second <= 60;
}

int nl__bcm_write_info(uint8_t *out, size_t cap, const nl_media_info *info)
{
    if ((info->version != 1 && info->version != 2) || info->width > NL_BCM_MAX_DIM ||
        info->height > NL_BCM_MAX_DIM || info->fps > 255 || info->unknown16 > 255 ||
        !time_ok(&info->start) || !time_ok(&info->end))
        return NL_EINVAL;
    if (cap < NL_BCM_INFO_LEN)
        return NL_ETOOBIG;
    memcpy(out, info->version == 1 ? "1001" : "1002", 4);
    nl__bcm_wr32(out + 4, NL_BCM_INFO_LEN);
    nl__bcm_wr32(out + 8, info->width);
    nl__bcm_wr32(out + 12, info->height);
    out[16] = (uint8_t)info->unknown16;
    out[17] = (uint8_t)info->fps;
    write_time(out + 18, &info->start);
    write_time(out + 24, &info->end);
    out[30] = out[31] = 0;
    return NL_BCM_INFO_LEN;
}

int nl__bcm_write_video_header(uint8_t *out, size_t cap, const nl__bcm_video_desc *v,
                               size_t payload_len)
{
    if ((v->codec != NL_MEDIA_CODEC_H264 && v->codec != NL_MEDIA_CODEC_H265) || v->channel > 9 ||
        payload_len == 0 || payload_len > NL_BCM_MAX_VIDEO_PAYLOAD)
        return NL_EINVAL;
    uint32_t extra = video_extra_len(v);
    uint32_t hdr = NL_BCM_VIDEO_HDR_LEN + extra;
    if (cap < hdr)
        return NL_ETOOBIG;
    out[0] = (uint8_t)('0' + v->channel);
    out[1] = v->keyframe ? '0' : '1';
    out[2] = 'd';
    out[3] = 'c';
    memcpy(out + 4, v->codec == NL_MEDIA_CODEC_H265 ? "H265" : "H264", 4);
    nl__bcm_wr32(out + 8, (uint32_t)payload_len);
    nl__bcm_wr32(out + 12, extra);
    nl__bcm_wr32(out + 16, v->ts_us);
    nl__bcm_wr32(out + 20, v->unknown20);
    if (extra) {
        nl__bcm_wr32(out + 24, v->posix_time);
        nl__bcm_wr32(out + 28, 0);
    }
    return (int)hdr;
}

int nl__bcm_write_video(uint8_t *out, size_t cap, const nl__bcm_video_desc *v,
                        const uint8_t *payload, size_t payload_len)
{
    int hdr = nl__bcm_write_video_header(out, cap, v, payload_len);
    if (hdr < 0)
        return hdr;
    size_t total = nl__bcm_video_size(v, payload_len);
    if (cap < total)
        return NL_ETOOBIG;
    memcpy(out + hdr, payload, payload_len);
    memset(out + hdr + payload_len, 0, total - (size_t)hdr - payload_len);
    return (int)total;
}

static void write_audio_header(uint8_t *out, const char *magic, uint16_t size)
{
    memcpy(out, magic, 4);
    nl__bcm_wr16(out + 4, size);
    nl__bcm_wr16(out + 6, size);
}

int nl__bcm_write_aac(uint8_t *out, size_t cap, const uint8_t *adts, size_t adts_len)
{
    if (adts_len < 7 || adts_len > UINT16_MAX)
        return NL_EINVAL;
    size_t total = nl__bcm_aac_size(adts_len);
    if (cap < total)
        return NL_ETOOBIG;
    write_audio_header(out, "05wb", (uint16_t)adts_len);
    memcpy(out + NL_BCM_AUDIO_HDR_LEN, adts, adts_len);
    memset(out + NL_BCM_AUDIO_HDR_LEN + adts_len, 0, total - NL_BCM_AUDIO_HDR_LEN - adts_len);
    return (int)total;
}

int nl__bcm_write_adpcm(uint8_t *out, size_t cap, const uint8_t *block, size_t block_len)
{
    if (block_len < 4 || block_len > UINT16_MAX - NL_BCM_ADPCM_SUBHDR_LEN)
        return NL_EINVAL;
    size_t total = nl__bcm_adpcm_size(block_len);
    if (cap < total)
        return NL_ETOOBIG;
    size_t size = NL_BCM_ADPCM_SUBHDR_LEN + block_len;
    write_audio_header(out, "01wb", (uint16_t)size);
    nl__bcm_wr16(out + 8, NL_BCM_ADPCM_SUBMAGIC);
    nl__bcm_wr16(out + 10, (uint16_t)(block_len / 2));
    memcpy(out + 12, block, block_len);
    memset(out + 12 + block_len, 0, total - 12 - block_len);
    return (int)total;
}
