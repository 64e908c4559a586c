/*
 * crc32c.h — CRC-32C (Castagnoli), the checksum of the spool's records and
 * segment headers (docs/spool.md).
 *
 * What it is for: spool.c checks and writes its checksums with it
 * (spool_crc32c in spool.h is this function under the spool's name).
 * Thread-safe: the tables are built once, on first use.
 */
#ifndef LLMTAP_AGENT_CRC32C_H
#define LLMTAP_AGENT_CRC32C_H

#include <stddef.h>
#include <stdint.h>

/* CRC-32C of buf[0, len), chainable: start with crc = 0, pass the previous
 * result to continue. crc32c_update(0, "123456789", 9) == 0xE3069283. */
uint32_t crc32c_update(uint32_t crc, const void *buf, size_t len);

#endif
