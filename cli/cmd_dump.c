/* neolink-cli dump: parse a raw BcMedia byte stream (a camera's msg-3
 * payloads concatenated, like the captures in samples/bcmedia) and print
 * what is in it; optionally extract the video as an Annex-B elementary
 * stream. Several files are read in order as one stream. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <libavutil/avutil.h>

#include "neolink/error.h"
#include "neolink/media.h"

/* Declared in the generated verbs.h, which also defines the verb table. */
int nl_cli_cmd_dump(int argc, char **argv);
extern const char nl_cli_help_dump[];

const char nl_cli_help_dump[] = "print the packets of a raw BcMedia stream (FILE...)";

#define READ_CHUNK 65536

typedef struct dump {
    const char *extract_path;
    FILE *extract;
    int quiet;
    nl_media_demux *demux;
    unsigned long long index;
    unsigned long long video_written;
    unsigned long long video_skipped; /* P-frames before the first key frame */
    int seen_key;
} dump;

static void usage(FILE *out)
{
    fprintf(out, "usage: neolink-cli dump [--quiet] [--extract-video OUT] FILE...\n"
                 "  Reads FILEs in order as one BcMedia stream and prints one line per packet,\n"
                 "  then a summary.\n"
                 "  --extract-video OUT  write the H.264/H.265 video (Annex-B, from the first\n"
                 "                       key frame) to OUT\n"
                 "  --quiet              print only the summary\n");
}

static void fmt_posix(int64_t t, char *buf, size_t n)
{
    time_t tt = (time_t)t;
    struct tm tm;
    if (!gmtime_r(&tt, &tm) || !strftime(buf, n, "%Y-%m-%dT%H:%M:%SZ", &tm))
        snprintf(buf, n, "?");
}

static void print_time(const char *label, const nl_media_time *t)
{
    printf(" %s %04d-%02d-%02d %02d:%02d:%02d", label, t->year, t->month, t->day, t->hour,
           t->minute, t->second);
}

static void print_packet(dump *d, const AVPacket *pkt, const nl_media_meta *m)
{
    printf("#%llu %-6s %-5s", d->index, nl_media_kind_name(m->kind), nl_media_codec_name(m->codec));
    if (m->kind == NL_MEDIA_KIND_INFO) {
        const nl_media_info *in = &m->info;
        printf(" v%d %ux%u fps %u", in->version, in->width, in->height, in->fps);
        print_time("start", &in->start);
        print_time("end", &in->end);
    } else {
        printf(" size %d", pkt->size);
        if (m->kind == NL_MEDIA_KIND_IFRAME || m->kind == NL_MEDIA_KIND_PFRAME)
            printf(" ts_us %lu", (unsigned long)m->camera_us);
        if (m->pts_us == AV_NOPTS_VALUE)
            printf(" pts_us -");
        else
            printf(" pts_us %lld", (long long)m->pts_us);
        if (m->posix_time >= 0) {
            char when[32];
            fmt_posix(m->posix_time, when, sizeof when);
            printf(" posix %lld (%s)", (long long)m->posix_time, when);
        }
        if (m->kind == NL_MEDIA_KIND_IFRAME || m->kind == NL_MEDIA_KIND_PFRAME)
            printf(" extra %lu", (unsigned long)m->extra_len);
        else
            printf(" samples %d @ %d Hz", m->nb_samples, m->sample_rate);
    }
    if (m->flags & NL_MEDIA_FLAG_RESYNC)
        printf(" [skipped %llu bytes before]", (unsigned long long)m->skipped_before);
    if (m->flags & NL_MEDIA_FLAG_HAS_PARAMS)
        printf(" [params]");
    if (m->flags & NL_MEDIA_FLAG_CLOCK_RESET)
        printf(" [clock reset]");
    if (m->flags & NL_MEDIA_FLAG_CLOCK_BACK)
        printf(" [clock back]");
    if (m->flags & NL_MEDIA_FLAG_LOSS)
        printf(" [loss]");
    printf("\n");
}

static int write_video(dump *d, AVPacket *pkt, const nl_media_meta *m)
{
    if (m->kind != NL_MEDIA_KIND_IFRAME && m->kind != NL_MEDIA_KIND_PFRAME)
        return 0;
    if (m->kind == NL_MEDIA_KIND_IFRAME) {
        d->seen_key = 1;
        /* A decoder needs the parameter sets in front of the key frame. */
        int rc = nl_media_demux_ensure_params(d->demux, pkt);
        if (rc < 0 && rc != NL_EAGAIN) {
            fprintf(stderr, "neolink-cli dump: %s\n", nl_strerror(rc));
            return 1;
        }
    }
    if (!d->seen_key) {
        d->video_skipped++;
        return 0;
    }
    if (fwrite(pkt->data, 1, (size_t)pkt->size, d->extract) != (size_t)pkt->size) {
        fprintf(stderr, "neolink-cli dump: cannot write %s: %s\n", d->extract_path,
                strerror(errno));
        return 1;
    }
    d->video_written++;
    return 0;
}

/* Takes every packet the demuxer has ready. */
static int drain(dump *d)
{
    AVPacket *pkt;
    nl_media_meta m;
    int rc;
    while ((rc = nl_media_demux_next(d->demux, &pkt, &m)) > 0) {
        d->index++;
        if (!d->quiet)
            print_packet(d, pkt, &m);
        if (d->extract && write_video(d, pkt, &m))
            return 1;
    }
    if (rc < 0) {
        fprintf(stderr, "neolink-cli dump: %s\n", nl_strerror(rc));
        return 1;
    }
    return 0;
}

static int feed_file(dump *d, const char *path, unsigned char *buf)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "neolink-cli dump: cannot open %s: %s\n", path, strerror(errno));
        return 1;
    }
    int ret = 0;
    size_t n;
    while ((n = fread(buf, 1, READ_CHUNK, f)) > 0) {
        const unsigned char *p = buf;
        while (n > 0) {
            size_t used = 0;
            int rc = nl_media_demux_feed(d->demux, p, n, &used);
            if (rc < 0) /* a packet was lost (no memory); the stream goes on */
                fprintf(stderr, "neolink-cli dump: %s\n", nl_strerror(rc));
            p += used;
            n -= used;
            if (drain(d)) {
                ret = 1;
                goto out;
            }
        }
    }
    if (ferror(f)) {
        fprintf(stderr, "neolink-cli dump: cannot read %s: %s\n", path, strerror(errno));
        ret = 1;
    }
out:
    fclose(f);
    return ret;
}

static void print_summary(dump *d)
{
    nl_media_stats st;
    nl_media_demux_stats(d->demux, &st);
    unsigned long long total = 0;
    for (int k = 1; k < NL_MEDIA_KIND_COUNT; k++)
        total += st.packets[k];
    printf("summary: %llu packets: info %llu, iframe %llu, pframe %llu, aac %llu, adpcm %llu\n",
           total, (unsigned long long)st.packets[NL_MEDIA_KIND_INFO],
           (unsigned long long)st.packets[NL_MEDIA_KIND_IFRAME],
           (unsigned long long)st.packets[NL_MEDIA_KIND_PFRAME],
           (unsigned long long)st.packets[NL_MEDIA_KIND_AAC],
           (unsigned long long)st.packets[NL_MEDIA_KIND_ADPCM]);

    nl_media_video_format vf;
    nl_media_demux_video_format(d->demux, &vf);
    if (vf.codec != NL_MEDIA_CODEC_NONE)
        printf("video: %s %dx%d (from SPS)\n", nl_media_codec_name(vf.codec), vf.width, vf.height);
    nl_media_info info;
    if (nl_media_demux_info(d->demux, &info) == 0)
        printf("info: v%d %ux%u fps %u\n", info.version, info.width, info.height, info.fps);
    nl_media_audio_format af;
    nl_media_demux_audio_format(d->demux, &af);
    if (af.codec != NL_MEDIA_CODEC_NONE)
        printf("audio: %s %d Hz, %d channel(s)\n", nl_media_codec_name(af.codec), af.sample_rate,
               af.channels);
    printf("skipped: %llu bytes in %llu resyncs\n", (unsigned long long)st.bytes_skipped,
           (unsigned long long)st.resyncs);
    if (st.packets_dropped)
        printf("dropped: %llu packets\n", (unsigned long long)st.packets_dropped);
    if (d->extract)
        printf("extracted: %llu video frames to %s\n", d->video_written, d->extract_path);
}

int nl_cli_cmd_dump(int argc, char **argv)
{
    dump d = {0};
    const char *files[256];
    int nfiles = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            usage(stdout);
            return 0;
        } else if (!strcmp(a, "--quiet") || !strcmp(a, "-q")) {
            d.quiet = 1;
        } else if (!strcmp(a, "--extract-video")) {
            if (++i >= argc) {
                fprintf(stderr, "neolink-cli dump: --extract-video needs a file name\n");
                return 2;
            }
            d.extract_path = argv[i];
        } else if (!strncmp(a, "--extract-video=", 16)) {
            d.extract_path = a + 16;
        } else if (a[0] == '-' && a[1] != '\0') {
            fprintf(stderr, "neolink-cli dump: unknown option '%s'\n", a);
            usage(stderr);
            return 2;
        } else if (nfiles == (int)(sizeof files / sizeof *files)) {
            fprintf(stderr, "neolink-cli dump: too many files (max %d)\n", nfiles);
            return 2;
        } else {
            files[nfiles++] = a;
        }
    }
    if (nfiles == 0 || (d.extract_path && !*d.extract_path)) {
        usage(stderr);
        return 2;
    }

    int rc = nl_media_demux_create(&d.demux, NULL);
    if (rc < 0) {
        fprintf(stderr, "neolink-cli dump: %s\n", nl_strerror(rc));
        return 1;
    }
    static unsigned char buf[READ_CHUNK];
    int ret = 0;
    if (d.extract_path) {
        d.extract = fopen(d.extract_path, "wb");
        if (!d.extract) {
            fprintf(stderr, "neolink-cli dump: cannot create %s: %s\n", d.extract_path,
                    strerror(errno));
            ret = 1;
            goto out;
        }
    }
    for (int i = 0; i < nfiles && !ret; i++)
        ret = feed_file(&d, files[i], buf);
    if (ret)
        goto out;

    int end = nl_media_demux_finish(d.demux);
    if (drain(&d)) {
        ret = 1;
        goto out;
    }
    print_summary(&d);
    nl_media_stats st;
    nl_media_demux_stats(d.demux, &st);
    if (d.index == 0) {
        fprintf(stderr, "neolink-cli dump: no complete BcMedia packet found (%llu bytes skipped)\n",
                (unsigned long long)st.bytes_skipped);
        ret = 1;
    } else if (end == NL_EEOF) {
        fprintf(stderr, "neolink-cli dump: input ends inside a packet (truncated stream)\n");
        ret = 1;
    } else if (st.bytes_skipped) {
        fprintf(stderr, "neolink-cli dump: warning: skipped %llu bytes of unknown data\n",
                (unsigned long long)st.bytes_skipped);
    }
    if (d.extract && d.video_skipped)
        fprintf(stderr,
                "neolink-cli dump: note: %llu frames before the first key frame were not "
                "extracted\n",
                d.video_skipped);
out:
    if (d.extract && fclose(d.extract) != 0 && !ret) {
        fprintf(stderr, "neolink-cli dump: cannot write %s: %s\n", d.extract_path, strerror(errno));
        ret = 1;
    }
    nl_media_demux_destroy(&d.demux);
    return ret;
}
