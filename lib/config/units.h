/* Value syntaxes of the configuration: durations and sizes (public, see
 * neolink/config.h), strict decimal integers, booleans and network
 * addresses. Pure functions on NUL-terminated text; no allocation. */
#ifndef NL_CONFIG_UNITS_H
#define NL_CONFIG_UNITS_H

#include <stddef.h>
#include <stdint.h>

/* Longest host accepted in an address (a DNS name is at most 253). */
#define NL_CFG_HOST_MAX 255

/* Strict decimal integer: optional '-', then 1..19 digits, nothing else.
 * Returns 0, NL_EINVAL (syntax) or NL_ERANGE (does not fit int64_t). */
int nl__cfg_parse_int(const char *text, int64_t *out);

/* YAML-style boolean, case-insensitive: true/yes/on -> 1, false/no/off -> 0.
 * Returns 0 or NL_EINVAL. */
int nl__cfg_parse_bool(const char *text, int *out);

/* "HOST[:PORT]" with IPv6 literals in brackets ("[::1]:9000"). host receives
 * the host without brackets (cap bytes including the NUL); *port receives the
 * port, or default_port when none is written. With default_port 0 a port is
 * required. Returns 0, or NL_EINVAL with *why set to a static explanation
 * ("expected HOST[:PORT]", ...). */
int nl__cfg_parse_hostport(const char *text, uint16_t default_port, char *host, size_t cap,
                           uint16_t *port, const char **why);

/* A listen address without a port: an IPv4 literal, an IPv6 literal (brackets
 * optional) or a host name. host receives it without brackets. Same returns
 * as nl__cfg_parse_hostport(). */
int nl__cfg_parse_host(const char *text, char *host, size_t cap, const char **why);

#endif
