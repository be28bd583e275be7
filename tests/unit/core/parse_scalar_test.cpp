// The strict number parsers: what they take and what they refuse.
#include <gtest/gtest.h>

#include <limits>

#include "omnirm/core/parse_scalar.h"

namespace {

using omnirm::parse_integer;
using omnirm::parse_number;

TEST(ParseScalar, IntegersTakeASignAndDigitsOnly) {
  EXPECT_EQ(parse_integer("4000"), 4000);
  EXPECT_EQ(parse_integer("+7"), 7);
  EXPECT_EQ(parse_integer("-12"), -12);
  EXPECT_EQ(parse_integer("9223372036854775807"), std::numeric_limits<int64_t>::max());
  for (const char* bad : {"", "+", "-", "++1", "+-1", "12a", "1.0", "1e3", " 3", "3 ", "0x10",
                          "9223372036854775808"}) {
    EXPECT_EQ(parse_integer(bad), std::nullopt) << "'" << bad << "'";
  }
}

TEST(ParseScalar, NumbersTakeDecimalsAndExponentsButNothingInfinite) {
  EXPECT_EQ(parse_number("2.5"), 2.5);
  EXPECT_EQ(parse_number("+1"), 1.0);
  EXPECT_EQ(parse_number("-0.25"), -0.25);
  EXPECT_EQ(parse_number("5e-4"), 5e-4);
  EXPECT_EQ(parse_number("3"), 3.0);
  for (const char* bad :
       {"", "+", "++1", "+-1", "inf", "nan", "-inf", "0x1p3", "1e999", "2.5x", " 1", "1,5"}) {
    EXPECT_EQ(parse_number(bad), std::nullopt) << "'" << bad << "'";
  }
}

}  // namespace
