/* Run-time version, so a program can tell which library it actually loaded. */
#include "neolink/version.h"

#define NL_STR2(x) #x
#define NL_STR(x) NL_STR2(x)

NL_EXPORT unsigned nl_version(void)
{
    return NL_VERSION_NUM;
}

NL_EXPORT const char *nl_version_string(void)
{
    return NL_STR(NL_VERSION_MAJOR) "." NL_STR(NL_VERSION_MINOR) "." NL_STR(NL_VERSION_PATCH);
}
