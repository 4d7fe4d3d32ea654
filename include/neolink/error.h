/**
 * @file error.h
 * One table of error codes for the whole library.
 *
 * Every fallible call returns an int: 0 (or a positive count) on success and a
 * negative code on failure. System failures are the negated errno value
 * (NL_ERR_FROM_ERRNO); library conditions use codes from -1000 down.
 * Codes are append-only: never renumber or remove one.
 */
#ifndef NEOLINK_ERROR_H
#define NEOLINK_ERROR_H

#include <errno.h>

#include "neolink/common.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Maps a positive errno value into the library's negative space. */
#define NL_ERR_FROM_ERRNO(e) (-(e))

/* errno-backed codes: XX(name, errno constant, message) */
#define NL_ERRNO_MAP(XX)                                                        \
    XX(ENOMEM, ENOMEM, "out of memory")                                         \
    XX(EINVAL, EINVAL, "invalid argument")                                      \
    XX(EAGAIN, EAGAIN, "resource temporarily unavailable")                      \
    XX(ETIMEDOUT, ETIMEDOUT, "timed out")                                       \
    XX(ECONNREFUSED, ECONNREFUSED, "connection refused")                        \
    XX(ECONNRESET, ECONNRESET, "connection reset by peer")                      \
    XX(EPIPE, EPIPE, "broken pipe")                                             \
    XX(ENOENT, ENOENT, "no such file or object")                                \
    XX(EACCES, EACCES, "permission denied")                                     \
    XX(EADDRINUSE, EADDRINUSE, "address already in use")                        \
    XX(ECANCELED, ECANCELED, "operation canceled")                              \
    XX(EMSGSIZE, EMSGSIZE, "message too long")                                  \
    XX(EIO, EIO, "input/output error")                                          \
    XX(EBADF, EBADF, "bad file descriptor")                                     \
    XX(EEXIST, EEXIST, "already exists")                                        \
    XX(ENOTSUP, ENOTSUP, "not supported")                                       \
    XX(EHOSTUNREACH, EHOSTUNREACH, "host unreachable")                          \
    XX(ENETUNREACH, ENETUNREACH, "network unreachable")                         \
    XX(EBUSY, EBUSY, "resource busy")                                           \
    XX(ENOSPC, ENOSPC, "no space left")                                         \
    XX(EMFILE, EMFILE, "too many open files")                                   \
    XX(EINTR, EINTR, "interrupted")                                             \
    XX(EINPROGRESS, EINPROGRESS, "operation in progress")                       \
    XX(ERANGE, ERANGE, "value out of range")

/* library codes: XX(name, value, message). Append only. */
#define NL_LIBERR_MAP(XX)                                                       \
    XX(EARENA, -1000, "arena byte cap reached")                                 \
    XX(EPROTO, -1001, "protocol violation by peer")                             \
    XX(EAUTH, -1002, "camera rejected the credentials")                         \
    XX(ECLOSED, -1003, "connection closed by peer")                             \
    XX(ETOOBIG, -1004, "message exceeds the size limit")                        \
    XX(ECRYPTO, -1005, "decryption failed")                                     \
    XX(ECODEC, -1006, "unsupported or broken codec data")                       \
    XX(ECONFIG, -1007, "invalid configuration")                                 \
    XX(ELIBAV, -1008, "libav call failed")                                      \
    XX(EHW, -1009, "hardware acceleration unavailable")                         \
    XX(ESTATE, -1010, "call not valid in the current state")                    \
    XX(EXML, -1011, "malformed XML")                                            \
    XX(ELIMIT, -1012, "limit reached")                                          \
    XX(ESTALL, -1013, "peer stopped sending")                                   \
    XX(EREFUSED, -1014, "request refused by peer")                              \
    XX(EEOF, -1015, "end of input")

enum {
#define NL_XX_ERRNO(name, e, msg) NL_##name = -(e),
    NL_ERRNO_MAP(NL_XX_ERRNO)
#undef NL_XX_ERRNO
#define NL_XX_LIB(name, v, msg) NL_##name = (v),
    NL_LIBERR_MAP(NL_XX_LIB)
#undef NL_XX_LIB
};

/**
 * Human-readable message for a code. Unknown negative codes fall back to
 * strerror-style text for errno values, else "unknown error".
 * Returns a static string. Any thread; never blocks.
 */
NL_EXPORT const char *nl_strerror(int code);

/**
 * Symbolic name of a code ("NL_ETIMEDOUT"), or "NL_UNKNOWN".
 * Returns a static string. Any thread; never blocks.
 */
NL_EXPORT const char *nl_err_name(int code);

/** Maps an errno value (positive, e.g. from a failed syscall) to a code. */
static inline int nl_err_from_errno(int e)
{
    return e > 0 ? -e : NL_EIO;
}

#ifdef __cplusplus
}
#endif
#endif
