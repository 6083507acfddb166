/* CRC-32 (IEEE 802.3, reflected polynomial 0xEDB88320, init and final XOR
 * 0xFFFFFFFF; the CRC of zlib, PNG and Ethernet). Used by the .mxp program
 * format and the host link. */
#ifndef MXU_CRC32_H
#define MXU_CRC32_H

#include <stddef.h>
#include <stdint.h>

/* CRC of one buffer: mxu_crc32("123456789", 9) == 0xCBF43926. */
uint32_t mxu_crc32(const void *data, size_t len);

/* Incremental form: start with crc = 0 and feed the pieces in order;
 * mxu_crc32_update(mxu_crc32_update(0, a, n), b, m) == CRC of a followed by b. */
uint32_t mxu_crc32_update(uint32_t crc, const void *data, size_t len);

#endif
