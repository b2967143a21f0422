/* iisguard — one error enum for the whole library. */
#ifndef IISGUARD_ERROR_H
#define IISGUARD_ERROR_H

#include "iisguard/export.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Every fallible function returns one of these; IG_OK is zero. */
typedef enum ig_err {
    IG_OK = 0,
    IG_ENOMEM,     /* an allocation failed */
    IG_ETRUNC,     /* input ended before a structure did */
    IG_EMALFORMED, /* input is present but not valid for its format */
    IG_ELIMIT,     /* an IG_MAX_* limit was reached */
    IG_EIO,        /* reading or writing a file failed */
    IG_EFORMAT,    /* input is not of the expected format at all */
    IG_EARG,       /* a caller passed an invalid argument */
    IG_ECRC,       /* a checksum did not match */
    IG_ERULE,      /* a rule failed to load or compile */
    IG_ERR_COUNT_
} ig_err;

/* Returns a static, human-readable description of `e`; never NULL. */
IG_API const char *ig_strerror(ig_err e);

#ifdef __cplusplus
}
#endif
#endif
