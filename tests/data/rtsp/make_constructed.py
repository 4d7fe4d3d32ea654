#!/usr/bin/env python3
"""Writes the two *constructed* transcripts in this directory.

VLC cannot act as an RTSP client on Debian 12 (RTSP.md 3.1: built without
live555), and ffmpeg's UDP->TCP fallback did not trigger against the capture
responder. Both are therefore written here byte by byte from the clients'
request formats (live555 RTSPClient::sendRequest header order; ffmpeg's order as
captured in ffmpeg51_*.bin) and RTSP.md 2.1. Digest responses are computed with
hashlib from RFC 2617's definition (no qop), user "admin", password "secret",
realm "neolink", the captures' nonce.
"""
import hashlib

REALM, NONCE, USER, PASS = "neolink", "0a4f113b5c6d7e8f9a0b1c2d3e4f5061", "admin", "secret"


def md5(s):
    return hashlib.md5(s.encode()).hexdigest()


def digest(method, uri):
    ha1 = md5(f"{USER}:{REALM}:{PASS}")
    ha2 = md5(f"{method}:{uri}")
    resp = md5(f"{ha1}:{NONCE}:{ha2}")
    return (f'Authorization: Digest username="{USER}", realm="{REALM}", '
            f'nonce="{NONCE}", uri="{uri}", response="{resp}"\r\n')


def live555(method, url, cseq, base, extra="", auth=True):
    ua = "User-Agent: LibVLC/3.0.20 (LIVE555 Streaming Media v2023.05.10)\r\n"
    a = digest(method, base) if auth else ""
    return f"{method} {url} RTSP/1.0\r\nCSeq: {cseq}\r\n{a}{ua}{extra}\r\n"


H = "rtsp://127.0.0.1:8554"
vlc = (live555("OPTIONS", f"{H}/cam", 2, f"{H}/cam", auth=False)
       + live555("DESCRIBE", f"{H}/cam", 3, f"{H}/cam", "Accept: application/sdp\r\n", auth=False)
       + live555("DESCRIBE", f"{H}/cam", 4, f"{H}/cam", "Accept: application/sdp\r\n")
       + live555("SETUP", f"{H}/cam/streamid=0", 5, f"{H}/cam/",
                 "Transport: RTP/AVP;unicast;client_port=52360-52361\r\n")
       + live555("PLAY", f"{H}/cam/", 6, f"{H}/cam/",
                 "Session: 4f2a9c81d0e3b657\r\nRange: npt=0.000-\r\n")
       + live555("GET_PARAMETER", f"{H}/cam/", 7, f"{H}/cam/", "Session: 4f2a9c81d0e3b657\r\n")
       + live555("TEARDOWN", f"{H}/cam/", 8, f"{H}/cam/", "Session: 4f2a9c81d0e3b657\r\n"))
open("vlc3_live555_udp_digest.constructed.bin", "wb").write(vlc.encode())


def lavf(method, url, cseq, pre="", session=None, auth=True):
    s = f"{method} {url} RTSP/1.0\r\n{pre}CSeq: {cseq}\r\nUser-Agent: Lavf59.27.100\r\n"
    if session:
        s += f"Session: {session}\r\n"
    if auth:
        s += digest(method, url)[:-2] + ', algorithm="MD5"\r\n'
    return s + "\r\n"


S1, S2 = "4f2a9c81d0e3b657", "9c1b7e5a33d04f21"
ff = (lavf("OPTIONS", f"{H}/cam", 1, auth=False)
      + lavf("DESCRIBE", f"{H}/cam", 2, "Accept: application/sdp\r\n", auth=False)
      + lavf("DESCRIBE", f"{H}/cam", 3, "Accept: application/sdp\r\n")
      + lavf("SETUP", f"{H}/cam/streamid=0", 4,
             "Transport: RTP/AVP/UDP;unicast;client_port=14172-14173\r\n")
      + lavf("PLAY", f"{H}/cam/", 5, "Range: npt=0.000-\r\n", S1)
      + lavf("PAUSE", f"{H}/cam/", 6, "", S1)
      + lavf("SETUP", f"{H}/cam/streamid=0", 7, "Transport: RTP/AVP/TCP;unicast;interleaved=0-1\r\n")
      + lavf("PLAY", f"{H}/cam/", 8, "Range: npt=0.000-\r\n", S2)
      + lavf("TEARDOWN", f"{H}/cam/", 9, "", S2))
open("ffmpeg51_udp_fallback_tcp.constructed.bin", "wb").write(ff.encode())
