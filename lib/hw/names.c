/* Names of the hwenc.h enums, for config files, logs and the CLI. */
#include <string.h>

#include "neolink/error.h"
#include "neolink/hwenc.h"

NL_EXPORT int nl_hwaccel_parse(const char *name)
{
    if (!name)
        return NL_EINVAL;
    if (!strcmp(name, "auto"))
        return NL_HWACCEL_AUTO;
    if (!strcmp(name, "vaapi"))
        return NL_HWACCEL_VAAPI;
    if (!strcmp(name, "software") || !strcmp(name, "none"))
        return NL_HWACCEL_SOFTWARE;
    return NL_EINVAL;
}

NL_EXPORT const char *nl_hwaccel_name(nl_hwaccel accel)
{
    switch (accel) {
    case NL_HWACCEL_AUTO:
        return "auto";
    case NL_HWACCEL_VAAPI:
        return "vaapi";
    case NL_HWACCEL_SOFTWARE:
        return "software";
    }
    return "?";
}

NL_EXPORT const char *nl_hw_backend_name(nl_hw_backend backend)
{
    switch (backend) {
    case NL_HW_BACKEND_VAAPI:
        return "vaapi";
    case NL_HW_BACKEND_SOFTWARE:
        return "software";
    case NL_HW_BACKEND_NONE:
        break;
    }
    return "none";
}

NL_EXPORT int nl_hw_rc_parse(const char *name)
{
    if (!name)
        return NL_EINVAL;
    if (!strcmp(name, "vbr"))
        return NL_HW_RC_VBR;
    if (!strcmp(name, "cbr"))
        return NL_HW_RC_CBR;
    if (!strcmp(name, "cqp"))
        return NL_HW_RC_CQP;
    return NL_EINVAL;
}
