// CRC-32C (Castagnoli polynomial, reflected 0x82F63B78), the checksum TFRecord files use, and
// TFRecord's "masked" form of it. crc32c("123456789") == 0xE3069283.
#pragma once

#include <cstdint>
#include <string_view>

namespace omnirm::io {

// The CRC-32C of `bytes`; `crc` continues a checksum over earlier bytes (0 to start).
uint32_t crc32c(std::string_view bytes, uint32_t crc = 0);

// TFRecord stores ((crc >> 15) | (crc << 17)) + 0xA282EAD8 so that a CRC over data holding
// CRCs stays well distributed.
uint32_t mask_crc32c(uint32_t crc);

}  // namespace omnirm::io
