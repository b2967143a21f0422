/* One error enum, one table of messages. */
#include <stddef.h>

#include "iisguard/error.h"

static const char *const messages[IG_ERR_COUNT_] = {
    [IG_OK] = "success",
    [IG_ENOMEM] = "out of memory",
    [IG_ETRUNC] = "input truncated",
    [IG_EMALFORMED] = "malformed input",
    [IG_ELIMIT] = "limit exceeded",
    [IG_EIO] = "input/output error",
    [IG_EFORMAT] = "unrecognised format",
    [IG_EARG] = "invalid argument",
    [IG_ECRC] = "checksum mismatch",
    [IG_ERULE] = "rule error",
};

const char *ig_strerror(ig_err e)
{
    if ((unsigned)e >= IG_ERR_COUNT_ || messages[e] == NULL)
        return "unknown error";
    return messages[e];
}
