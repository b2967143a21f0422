/* CRC-32 (IEEE 802.3, reflected; the checksum of EVTX headers and chunks).
 * Same results as zlib's crc32(): `seed` is a previous result (0 to start). */
#ifndef IG_CORE_CRC32_H
#define IG_CORE_CRC32_H

#include <stddef.h>
#include <stdint.h>

uint32_t ig_crc32(uint32_t seed, const uint8_t *p, size_t n);

#endif
