/* iisguard — symbol visibility. The library is built with -fvisibility=hidden;
 * only declarations marked IG_API are exported. */
#ifndef IISGUARD_EXPORT_H
#define IISGUARD_EXPORT_H

#if defined(IG_BUILDING_LIBRARY) && defined(__GNUC__)
#define IG_API __attribute__((visibility("default")))
#else
#define IG_API
#endif

#endif
