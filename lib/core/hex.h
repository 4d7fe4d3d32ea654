/* One hexadecimal digit's value, for the parsers of untrusted text (RTSP
 * URLs, Digest nonces, Transport SSRCs, TOML escapes). */
#ifndef NL_CORE_HEX_H
#define NL_CORE_HEX_H

/* 0..15 for [0-9a-fA-F], -1 for anything else (any int, EOF included). */
static inline int nl__hex_digit(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

#endif
