/**
 * @file version.h
 * Compile-time and run-time version of libneolink.
 */
#ifndef NEOLINK_VERSION_H
#define NEOLINK_VERSION_H

#include "neolink/common.h"

#define NL_VERSION_MAJOR 0
#define NL_VERSION_MINOR 1
#define NL_VERSION_PATCH 0

/** Packs a version into one comparable number. */
#define NL_MAKE_VERSION(a, b, c) (((a) << 16) | ((b) << 8) | (c))
#define NL_VERSION_NUM NL_MAKE_VERSION(NL_VERSION_MAJOR, NL_VERSION_MINOR, NL_VERSION_PATCH)

#ifdef __cplusplus
extern "C" {
#endif

/** Version of the library actually loaded (NL_MAKE_VERSION form). Any thread; never blocks. */
NL_EXPORT unsigned nl_version(void);

/** The same as a static string, e.g. "0.1.0". Any thread; never blocks. */
NL_EXPORT const char *nl_version_string(void);

#ifdef __cplusplus
}
#endif
#endif
