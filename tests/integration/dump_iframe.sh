#!/bin/bash
# timeout: 60
# `neolink-cli dump` on the camera's I-frame capture (iframe_0..4.raw, one
# H.264 I-frame cut in BC-message-sized pieces): the printed packet line and
# summary carry the sheet's values, and the extracted Annex-B stream decodes
# with FFmpeg to exactly one picture of the size the SPS gives.
set -euo pipefail

: "${NL_CLI:?NL_CLI not set}" "${NL_DATA:?NL_DATA not set}"
for t in ffprobe ffmpeg; do # installed by the test command (scripts/deps.sh --test)
    command -v $t >/dev/null || { echo "FAIL: $t not installed"; exit 1; }
done

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
d="$NL_DATA/bcmedia"
fail() { echo "FAIL: $*" >&2; exit 1; }

"$NL_CLI" dump "$d"/iframe_0.raw "$d"/iframe_1.raw "$d"/iframe_2.raw "$d"/iframe_3.raw \
    "$d"/iframe_4.raw --extract-video "$tmp/video.h264" >"$tmp/out" 2>"$tmp/err" \
    || { cat "$tmp/out" "$tmp/err"; fail "dump exited non-zero"; }
cat "$tmp/out"

# One packet line with the sheet's values (baichuan.md §8.2).
line=$(grep '^#1 ' "$tmp/out") || fail "no packet line"
for want in "iframe" "H264" "size 192881" "ts_us 3557705112" "posix 1628085232" "extra 8"; do
    [[ "$line" == *"$want"* ]] || fail "packet line lacks '$want': $line"
done
[ "$(grep -c '^#' "$tmp/out")" -eq 1 ] || fail "expected exactly one packet line"

# The summary.
grep -qx 'summary: 1 packets: info 0, iframe 1, pframe 0, aac 0, adpcm 0' "$tmp/out" \
    || fail "summary line"
grep -qx 'video: H264 2560x1440 (from SPS)' "$tmp/out" || fail "video line"
grep -qx 'skipped: 0 bytes in 0 resyncs' "$tmp/out" || fail "skipped line"
grep -qx "extracted: 1 video frames to $tmp/video.h264" "$tmp/out" || fail "extracted line"
[ ! -s "$tmp/err" ] || { cat "$tmp/err"; fail "unexpected stderr"; }

# The extracted stream is the payload byte for byte (192881 bytes).
[ "$(stat -c %s "$tmp/video.h264")" -eq 192881 ] || fail "extracted size"

# FFmpeg agrees with the SPS on the picture size...
size=$(ffprobe -v error -select_streams v:0 -show_entries stream=width,height -of csv=p=0:s=x \
    "$tmp/video.h264")
sps=$(sed -n 's/^video: H264 \([0-9]*x[0-9]*\) (from SPS)$/\1/p' "$tmp/out")
[ "$size" = "$sps" ] || fail "ffprobe says $size, dump's SPS says $sps"
[ "$size" = "2560x1440" ] || fail "size $size is not the sheet's 2560x1440"

# ...and decodes exactly one frame, without errors.
# (grep -c exits 1 when it counts 0: the count is checked on the next line)
frames=$(ffmpeg -nostdin -v error -xerror -i "$tmp/video.h264" -f framemd5 - \
    | grep -vc '^#' || true)
[ "$frames" = "1" ] || fail "ffmpeg decoded $frames frames, expected 1"

# Bad input gets a one-line error and a non-zero exit.
if "$NL_CLI" dump "$tmp/does-not-exist" >/dev/null 2>"$tmp/err"; then
    fail "missing file accepted"
fi
[ "$(wc -l <"$tmp/err")" -eq 1 ] || fail "missing file: expected one error line"
head -c 1000 "$d/iframe_0.raw" >"$tmp/cut.raw"
if "$NL_CLI" dump "$tmp/cut.raw" >/dev/null 2>"$tmp/err"; then fail "truncated input accepted"; fi
grep -q 'no complete BcMedia packet' "$tmp/err" || fail "truncated: $(cat "$tmp/err")"
echo "PASS"
