/* ADTS header parsing (ISO/IEC 13818-7 / 14496-3 1.A.2). See aac.h. */
#include "media/aac.h"

#include "neolink/error.h"

static const unsigned rate_table[13] = {96000, 88200, 64000, 48000, 44100, 32000, 24000,
                                        22050, 16000, 12000, 11025, 8000,  7350};

int nl__adts_parse(const uint8_t *p, size_t len, nl__adts *h)
{
    if (len < 2)
        return NL_EAGAIN;
    /* syncword 0xFFF, then ID (either), layer 00. */
    if (p[0] != 0xff || (p[1] & 0xf6) != 0xf0)
        return NL_EPROTO;
    if (len < NL_ADTS_MIN_HDR)
        return NL_EAGAIN;
    int crc_absent = p[1] & 1;
    unsigned profile = p[2] >> 6;
    unsigned sf = (p[2] >> 2) & 0x0f;
    unsigned chan = (unsigned)(p[2] & 1) << 2 | p[3] >> 6;
    unsigned flen = (unsigned)(p[3] & 3) << 11 | (unsigned)p[4] << 3 | p[5] >> 5;
    unsigned blocks = (p[6] & 3) + 1u;
    unsigned hdr = crc_absent ? 7u : 9u;
    if (sf >= 13 || flen < hdr)
        return NL_EPROTO;
    /* With a CRC and several blocks, each block has its own CRC at positions
     * the header gives only after it; none of Reolink's streams does this. */
    if (!crc_absent && blocks > 1)
        return NL_ENOTSUP;
    if (chan == 0)
        return NL_ENOTSUP;
    if (len < flen)
        return NL_EAGAIN;
    h->hdr_len = hdr;
    h->frame_len = flen;
    h->object_type = profile + 1;
    h->sf_index = sf;
    h->sample_rate = rate_table[sf];
    h->channel_config = chan;
    h->channels = chan == 7 ? 8 : chan;
    h->raw_blocks = blocks;
    return 0;
}

void nl__adts_asc(const nl__adts *h, uint8_t asc[2])
{
    /* 5 bits object type | 4 bits rate index | 4 bits channels | 3 zero bits */
    asc[0] = (uint8_t)(h->object_type << 3 | h->sf_index >> 1);
    asc[1] = (uint8_t)((h->sf_index & 1) << 7 | h->channel_config << 3);
}
