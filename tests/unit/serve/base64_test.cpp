// Base64 for inline media: round trips of every length remainder and every byte value,
// whitespace and optional padding accepted, and the offset of the first bad character.
#include "omnirm/serve/base64.h"

#include <gtest/gtest.h>

namespace omnirm::serve {
namespace {

TEST(Base64, RoundTripsEveryByteAndLength) {
  std::string all;
  for (int i = 0; i < 256; ++i) all += static_cast<char>(i);
  for (size_t length = 0; length <= all.size(); length += (length < 8 ? 1 : 37)) {
    const std::string bytes = all.substr(0, length);
    const std::string text = encode_base64(bytes);
    EXPECT_EQ(text.size() % 4, 0u);
    const Base64Result decoded = decode_base64(text);
    ASSERT_TRUE(decoded.ok()) << length;
    EXPECT_EQ(decoded.bytes, bytes) << length;
    EXPECT_LE(static_cast<int64_t>(bytes.size()), base64_decoded_bound(text));
  }
  EXPECT_EQ(encode_base64("Man"), "TWFu");
  EXPECT_EQ(encode_base64("Ma"), "TWE=");
  EXPECT_EQ(encode_base64("M"), "TQ==");
}

TEST(Base64, WhitespaceAndMissingPaddingAreAccepted) {
  EXPECT_EQ(decode_base64("TWFu\r\nTWE").bytes, "ManMa");
  EXPECT_EQ(decode_base64(" TQ = = ").bytes, "M");
  EXPECT_TRUE(decode_base64("").ok());
}

TEST(Base64, TheFirstBadCharacterIsNamed) {
  EXPECT_EQ(decode_base64("TWF*").bad_offset, 3);
  EXPECT_EQ(decode_base64("TQ==TQ==").bad_offset, 4);  // data after padding
  EXPECT_EQ(decode_base64("TWFuT").bad_offset, 4);     // a lone 6-bit group
  EXPECT_EQ(decode_base64("TWF-").bad_offset, 3);      // the URL-safe alphabet is not base64
  EXPECT_TRUE(decode_base64("TWF*").bytes.empty());
}

}  // namespace
}  // namespace omnirm::serve
