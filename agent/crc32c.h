/*
 * crc32c.h — CRC-32C (Castagnoli), the checksum of the spool's records and
 * segment headers (docs/spool.md).
 *
 * What it is for: spool.c checks and writes its checksums with it
 * (spool_crc32c in spool.h is this function under the spool's name).
 * Thread-safe: the implementation (the CPU's crc32 instruction where it
 * has one, tables otherwise; same results) is chosen and the tables are
 * built once, on first use.
 */
#ifndef LLMTAP_AGENT_CRC32C_H
#define LLMTAP_AGENT_CRC32C_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* CRC-32C of buf[0, len), chainable: start with crc = 0, pass the previous
 * result to continue. crc32c_update(0, "123456789", 9) == 0xE3069283. */
uint32_t crc32c_update(uint32_t crc, const void *buf, size_t len);

/* True when crc32c_update uses the CPU's instruction (SSE4.2 on x86-64,
 * unless LLMTAP_CRC32C_SOFTWARE=1 was set at the first call). */
bool crc32c_hardware(void);

#endif
