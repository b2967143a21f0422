/* iisguard — umbrella header. */
#ifndef IISGUARD_H
#define IISGUARD_H

#include "iisguard/error.h"
#include "iisguard/evtx.h"

#define IG_VERSION "0.1.0"

#endif
