/* The error table: nl_strerror() and nl_err_name() are generated from the
 * X-macros in include/neolink/error.h, so a code cannot exist without text. */
#include <string.h>

#include "neolink/error.h"

NL_EXPORT const char *nl_strerror(int code)
{
    switch (code) {
    case 0:
        return "success";
#define NL_XX_ERRNO(name, e, msg)                                                 \
    case -(e):                                                                    \
        return msg;
        NL_ERRNO_MAP(NL_XX_ERRNO)
#undef NL_XX_ERRNO
#define NL_XX_LIB(name, v, msg)                                                   \
    case (v):                                                                     \
        return msg;
        NL_LIBERR_MAP(NL_XX_LIB)
#undef NL_XX_LIB
    default:
        break;
    }
    /* An errno value without its own row: strerror text is static for the
     * glibc errno range and fine to return. */
    if (code < 0 && code > -4096)
        return strerror(-code);
    return "unknown error";
}

NL_EXPORT const char *nl_err_name(int code)
{
    switch (code) {
    case 0:
        return "NL_OK";
#define NL_XX_ERRNO(name, e, msg)                                                 \
    case -(e):                                                                    \
        return "NL_" #name;
        NL_ERRNO_MAP(NL_XX_ERRNO)
#undef NL_XX_ERRNO
#define NL_XX_LIB(name, v, msg)                                                   \
    case (v):                                                                     \
        return "NL_" #name;
        NL_LIBERR_MAP(NL_XX_LIB)
#undef NL_XX_LIB
    default:
        return "NL_UNKNOWN";
    }
}
