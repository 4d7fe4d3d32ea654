/* SDP from av_sdp_create over per-track muxers, with parameter sets taken
 * from real camera captures (tests/data/rtp, cut from shared/samples):
 * rtpmap/fmtp per codec, sprop values equal to the base64 of the camera's own
 * SPS/PPS/VPS, AAC config=, static PCMU, the session-level attributes we add,
 * per-track control URLs, late extradata updates and the error paths. */
#include <libavutil/base64.h>
#include <libavutil/channel_layout.h>

#include "neolink/error.h"
#include "rtp/sdp.h"
#include "rtp_test_util.h"

#define DATA NL_TEST_DATA "/rtp/"

static AVCodecParameters *video_par(enum AVCodecID id, const char *file, int w, int h)
{
    size_t n;
    unsigned char *d = nl_test_read_file(file, &n);
    AVCodecParameters *par = avcodec_parameters_alloc();
    par->codec_type = AVMEDIA_TYPE_VIDEO;
    par->codec_id = id;
    par->width = w;
    par->height = h;
    par->extradata = av_mallocz(n + AV_INPUT_BUFFER_PADDING_SIZE);
    memcpy(par->extradata, d, n);
    par->extradata_size = (int)n;
    free(d);
    return par;
}

static AVCodecParameters *audio_par(enum AVCodecID id, int rate, const uint8_t *asc, int asc_len)
{
    AVCodecParameters *par = avcodec_parameters_alloc();
    par->codec_type = AVMEDIA_TYPE_AUDIO;
    par->codec_id = id;
    par->sample_rate = rate;
    av_channel_layout_default(&par->ch_layout, 1);
    if (asc_len) {
        par->extradata = av_mallocz((size_t)asc_len + AV_INPUT_BUFFER_PADDING_SIZE);
        memcpy(par->extradata, asc, (size_t)asc_len);
        par->extradata_size = asc_len;
    }
    return par;
}

static nl_rtp_mux *mux_for(const AVCodecParameters *par, int track)
{
    nl_rtp_mux_config cfg = {
        .par = par,
        .in_time_base = {1, US},
        .track = track,
        .payload_type = -1,
    };
    nl_rtp_mux *m = NULL;
    NL_ASSERT_OK(nl_rtp_mux_create(&m, &cfg));
    return m;
}

/* base64 of the NAL (header included) that starts with byte `first`. */
static void nal_b64(const char *file, uint8_t first, char *out, int out_size)
{
    size_t n;
    unsigned char *d = nl_test_read_file(file, &n);
    nal_ref nals[8];
    int nn = split_annexb(d, n, nals, 8);
    for (int i = 0; i < nn; i++) {
        if (nals[i].p[0] == first) {
            NL_ASSERT(av_base64_encode(out, out_size, nals[i].p, (int)nals[i].n) != NULL);
            free(d);
            return;
        }
    }
    NL_FAIL("no NAL starting with %02x in %s", first, file);
}

static int count(const char *s, const char *needle)
{
    int c = 0;
    for (const char *p = strstr(s, needle); p; p = strstr(p + 1, needle))
        c++;
    return c;
}

/* The media section i (from its m= line to the next or the end), copied. */
static void media_section(const char *sdp, int i, char *out, size_t out_size)
{
    const char *p = strstr(sdp, "\r\nm=");
    for (int k = 0; k < i && p; k++)
        p = strstr(p + 1, "\r\nm=");
    NL_ASSERT(p != NULL);
    p += 2;
    const char *end = strstr(p, "\r\nm=");
    size_t n = end ? (size_t)(end - p) + 2 : strlen(p);
    NL_ASSERT(n < out_size);
    memcpy(out, p, n);
    out[n] = '\0';
}

static void test_h264_aac(void)
{
    AVCodecParameters *v = video_par(AV_CODEC_ID_H264, DATA "camera_h264_params.h264", 2560, 1440);
    static const uint8_t asc[] = {0x14, 0x08}; /* AAC-LC, 16 kHz, mono */
    AVCodecParameters *a = audio_par(AV_CODEC_ID_AAC, 16000, asc, 2);
    nl_rtp_mux *m[2] = {mux_for(v, 0), mux_for(a, 1)};
    char sdp[NL_SDP_MIN_BUF];
    int len = nl_rtp_sdp_build(m, 2, "yard cam", sdp, sizeof(sdp));
    NL_ASSERT_OK(len);
    NL_ASSERT_EQ(len, strlen(sdp));
    printf("%s", sdp);

    /* session part: v=, s=, then our two attributes before the first m= */
    NL_ASSERT(strncmp(sdp, "v=0\r\n", 5) == 0);
    NL_ASSERT(strstr(sdp, "\r\ns=yard cam\r\n") != NULL);
    const char *m0 = strstr(sdp, "\r\nm=");
    const char *ctl = strstr(sdp, "\r\na=control:*\r\n");
    const char *rng = strstr(sdp, "\r\na=range:npt=now-\r\n");
    NL_ASSERT(ctl && rng && ctl < m0 && rng < m0);
    NL_ASSERT_EQ(count(sdp, "\r\nm="), 2);
    NL_ASSERT_EQ(count(sdp, "a=control:*"), 1);
    NL_ASSERT_EQ(count(sdp, "a=range:"), 1);
    /* every line ends in CRLF */
    NL_ASSERT_EQ(count(sdp, "\n"), count(sdp, "\r\n"));
    NL_ASSERT(len >= 2 && sdp[len - 2] == '\r' && sdp[len - 1] == '\n');

    char sec[2048], want[512], sps[128], pps[64];
    media_section(sdp, 0, sec, sizeof(sec));
    NL_ASSERT(strncmp(sec, "m=video 0 RTP/AVP 96\r\n", 22) == 0);
    NL_ASSERT(strstr(sec, "c=IN IP4 0.0.0.0\r\n") != NULL);
    NL_ASSERT(strstr(sec, "a=rtpmap:96 H264/90000\r\n") != NULL);
    nal_b64(DATA "camera_h264_params.h264", 0x67, sps, sizeof(sps));
    nal_b64(DATA "camera_h264_params.h264", 0x68, pps, sizeof(pps));
    NL_ASSERT_STREQ(sps, "Z2QAM6zoAoALWQ==");
    snprintf(want, sizeof(want), "sprop-parameter-sets=%s,%s", sps, pps);
    NL_ASSERT(strstr(sec, want) != NULL);
    NL_ASSERT(strstr(sec, "packetization-mode=1") != NULL);
    NL_ASSERT(strcasestr(sec, "profile-level-id=640033") != NULL); /* High, level 5.1 */
    NL_ASSERT(strstr(sec, "a=control:streamid=0\r\n") != NULL);

    media_section(sdp, 1, sec, sizeof(sec));
    NL_ASSERT(strncmp(sec, "m=audio 0 RTP/AVP 97\r\n", 22) == 0);
    NL_ASSERT(strstr(sec, "c=IN IP4 0.0.0.0\r\n") != NULL);
    NL_ASSERT(strstr(sec, "a=rtpmap:97 MPEG4-GENERIC/16000/1\r\n") != NULL);
    NL_ASSERT(strstr(sec, "mode=AAC-hbr") != NULL);
    NL_ASSERT(strstr(sec, "sizelength=13;indexlength=3;indexdeltalength=3") != NULL);
    NL_ASSERT(strcasestr(sec, "config=1408") != NULL);
    NL_ASSERT(strstr(sec, "a=control:streamid=1\r\n") != NULL);

    /* Late SPS/PPS: the next SDP carries the new ones. */
    size_t n;
    unsigned char *x264 = nl_test_read_file(DATA "camera_h264_params.h264", &n);
    x264[5] = 0x4d; /* Main profile */
    x264[7] = 0x28; /* level 4.0 */
    NL_ASSERT_OK(nl_rtp_mux_set_extradata(m[0], x264, n));
    NL_ASSERT_OK(nl_rtp_sdp_build(m, 2, NULL, sdp, sizeof(sdp)));
    NL_ASSERT(strcasestr(sdp, "profile-level-id=4d0028") != NULL);
    NL_ASSERT(strstr(sdp, "\r\ns=No Name\r\n") != NULL);
    /* avcC is refused, Annex B stays */
    x264[0] = 1;
    NL_ASSERT_EQ(nl_rtp_mux_set_extradata(m[0], x264, n), NL_EINVAL);
    NL_ASSERT_EQ(nl_rtp_mux_set_extradata(m[1], x264, 1), NL_EINVAL); /* AAC needs an ASC */
    free(x264);

    nl_rtp_mux_destroy(&m[0]);
    nl_rtp_mux_destroy(&m[1]);
    avcodec_parameters_free(&v);
    avcodec_parameters_free(&a);
}

static void test_h265_single(void)
{
    AVCodecParameters *v = video_par(AV_CODEC_ID_HEVC, DATA "camera_h265_params.hevc", 2560, 1920);
    nl_rtp_mux *m = mux_for(v, 0);
    char sdp[NL_SDP_MIN_BUF];
    NL_ASSERT_OK(nl_rtp_sdp_build(&m, 1, "argus", sdp, sizeof(sdp)));
    printf("%s", sdp);
    char want[512], vps[128], sps[256], pps[64];
    nal_b64(DATA "camera_h265_params.hevc", 0x40, vps, sizeof(vps));
    nal_b64(DATA "camera_h265_params.hevc", 0x42, sps, sizeof(sps));
    nal_b64(DATA "camera_h265_params.hevc", 0x44, pps, sizeof(pps));
    NL_ASSERT_STREQ(pps, "RAHAcvA7JA==");
    NL_ASSERT(strstr(sdp, "m=video 0 RTP/AVP 96\r\n") != NULL);
    NL_ASSERT(strstr(sdp, "a=rtpmap:96 H265/90000\r\n") != NULL);
    snprintf(want, sizeof(want), "sprop-vps=%s; sprop-sps=%s; sprop-pps=%s", vps, sps, pps);
    NL_ASSERT(strstr(sdp, want) != NULL);
    NL_ASSERT(strstr(sdp, "a=control:streamid=0\r\n") != NULL);
    /* one track: c= moves to session level, still before m= */
    const char *c = strstr(sdp, "c=IN IP4 0.0.0.0\r\n");
    NL_ASSERT(c && c < strstr(sdp, "m=video"));
    NL_ASSERT(strstr(sdp, "a=control:*\r\n") < strstr(sdp, "m=video"));

    /* VPS without SPS/PPS: av_sdp_create fails, and we say so */
    static const uint8_t only_vps[] = {0, 0, 0, 1, 0x40, 0x01, 0x0c, 0x01, 0xff, 0xff};
    NL_ASSERT_OK(nl_rtp_mux_set_extradata(m, only_vps, sizeof(only_vps)));
    NL_ASSERT_EQ(nl_rtp_sdp_build(&m, 1, "argus", sdp, sizeof(sdp)), NL_ECODEC);
    NL_ASSERT_STREQ(sdp, ""); /* never a half-written SDP */
    nl_rtp_mux_destroy(&m);
    avcodec_parameters_free(&v);
}

static void test_pcmu_and_errors(void)
{
    AVCodecParameters *v = video_par(AV_CODEC_ID_H264, DATA "camera_h264_params.h264", 2560, 1440);
    AVCodecParameters *a = audio_par(AV_CODEC_ID_PCM_MULAW, 8000, NULL, 0);
    nl_rtp_mux *m[2] = {mux_for(v, 0), mux_for(a, 1)};
    char sdp[NL_SDP_MIN_BUF];
    NL_ASSERT_OK(nl_rtp_sdp_build(m, 2, "sub", sdp, sizeof(sdp)));
    char sec[1024];
    media_section(sdp, 1, sec, sizeof(sec));
    NL_ASSERT(strncmp(sec, "m=audio 0 RTP/AVP 0\r\n", 21) == 0);
    NL_ASSERT(strstr(sec, "a=rtpmap") == NULL); /* static payload type: no rtpmap */
    NL_ASSERT(strstr(sec, "a=control:streamid=1\r\n") != NULL);

    /* buffer too small to start with / too small for the result */
    NL_ASSERT_EQ(nl_rtp_sdp_build(m, 2, "sub", sdp, NL_SDP_MIN_BUF - 1), NL_EINVAL);
    static char long_name[NL_SDP_MIN_BUF + 100];
    memset(long_name, 'x', sizeof(long_name) - 1);
    NL_ASSERT_EQ(nl_rtp_sdp_build(m, 2, long_name, sdp, sizeof(sdp)), NL_ETOOBIG);
    NL_ASSERT_STREQ(sdp, "");
    char big[3 * NL_SDP_MIN_BUF];
    NL_ASSERT_OK(nl_rtp_sdp_build(m, 2, long_name, big, sizeof(big)));
    /* track order must match track indexes */
    nl_rtp_mux *swapped[2] = {m[1], m[0]};
    NL_ASSERT_EQ(nl_rtp_sdp_build(swapped, 2, NULL, sdp, sizeof(sdp)), NL_EINVAL);
    NL_ASSERT_EQ(nl_rtp_sdp_build(&m[1], 1, NULL, sdp, sizeof(sdp)), NL_EINVAL);
    NL_ASSERT_EQ(nl_rtp_sdp_build(m, 0, NULL, sdp, sizeof(sdp)), NL_EINVAL);
    NL_ASSERT_EQ(nl_rtp_sdp_build(m, NL_SDP_MAX_TRACKS + 1, NULL, sdp, sizeof(sdp)), NL_EINVAL);

    nl_rtp_mux_destroy(&m[0]);
    nl_rtp_mux_destroy(&m[1]);
    avcodec_parameters_free(&v);
    avcodec_parameters_free(&a);
}

int main(void)
{
    av_log_set_level(AV_LOG_FATAL);
    NL_RUN(test_h264_aac);
    NL_RUN(test_h265_single);
    NL_RUN(test_pcmu_and_errors);
    NL_DONE();
}
