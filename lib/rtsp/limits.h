/* Hard caps for everything an RTSP client sends us. Every parser in lib/rtsp
 * checks its input against these before using it, so a hostile or broken
 * client can never make the server buffer, loop or allocate more than this.
 *
 * The numbers leave generous room over what real clients send (see
 * docs/internals/RTSP-PARSING.md): the longest request in the captured
 * ffmpeg 5.1 / GStreamer 1.22 sessions is about 560 bytes with 11 headers
 * (GStreamer's first OPTIONS with its RealMedia compatibility headers). */
#ifndef NL_RTSP_LIMITS_H
#define NL_RTSP_LIMITS_H

/* Request line ("METHOD URL RTSP/1.0"), without the line ending. Longer: 414
 * (or 400 when not even a method was recognisable). */
#define NL_RTSP_MAX_REQUEST_LINE 2048

/* Request URL as written in the request line. Longer: 414. */
#define NL_RTSP_MAX_URL 1024

/* Longest method token we look at ("GET_PARAMETER" is 13). */
#define NL_RTSP_MAX_METHOD 32

/* Header lines per request; one more is a 400. */
#define NL_RTSP_MAX_HEADERS 64

/* Request line + headers + the blank line. Bigger: 400 (RTSP/1.0 has no
 * "header fields too large" status; RFC 2326 413 is about the body). */
#define NL_RTSP_MAX_HEAD 8192

/* Content-Length of a request body (SET_PARAMETER, GET_PARAMETER, ANNOUNCE).
 * Bigger: 413 Request Entity Too Large. */
#define NL_RTSP_MAX_BODY 4096

/* Payload of one '$' interleaved frame sent by the client. Clients only send
 * RTCP this way (GStreamer receiver reports are 84 bytes); bigger is a 400. */
#define NL_RTSP_MAX_INTERLEAVED 4096

/* The input buffer of a connection must hold at least one whole message:
 * the largest request or the largest interleaved frame. */
#define NL_RTSP_MAX_MESSAGE (NL_RTSP_MAX_HEAD + NL_RTSP_MAX_BODY)

/* Session id in a Session header (RFC 7826 allows 1..256 chars; ours are 16). */
#define NL_RTSP_MAX_SESSION_ID 256

/* Transport header alternatives examined; later ones are ignored. */
#define NL_RTSP_MAX_TRANSPORTS 8

/* Percent-decoded URL path (mount path + control suffix). */
#define NL_RTSP_MAX_PATH 512

/* Authorization header value, and the storage for its unquoted parameters
 * (username, realm, nonce, uri, response, cnonce, ...). */
#define NL_RTSP_MAX_AUTHZ 2048

/* Parameters in one Digest Authorization header; more is malformed. */
#define NL_RTSP_MAX_AUTH_PARAMS 16

/* Decoded Basic credentials "user:password". */
#define NL_RTSP_MAX_BASIC 512

/* Realm we put in challenges (ASCII, no quotes or backslashes). */
#define NL_RTSP_MAX_REALM 64

/* Longest reply status line + headers we ever build (the body comes on top). */
#define NL_RTSP_MAX_REPLY_HEAD 4096

#endif
