// UTC timestamps: format, parsing, ages.
#include "hcx/store/timestamp.h"

#include <gtest/gtest.h>

namespace hcx::store {
namespace {

TEST(Timestamp, FormatsUtcWithMilliseconds) {
  const Clock::time_point t{std::chrono::milliseconds(1764410400123)};  // 2025-11-29T10:00:00.123Z
  EXPECT_EQ(utc_iso(t), "2025-11-29T10:00:00.123Z");
  EXPECT_EQ(utc_iso(Clock::time_point{}), "1970-01-01T00:00:00.000Z");
}

TEST(Timestamp, ParsesWhatItWritesAndPlainSeconds) {
  const Clock::time_point t{std::chrono::milliseconds(1764410400123)};
  EXPECT_EQ(parse_utc(utc_iso(t)), t);
  EXPECT_EQ(parse_utc("2025-11-29T10:00:00Z"), Clock::time_point{std::chrono::milliseconds(1764410400000)});
  EXPECT_EQ(parse_utc("2025-11-29T10:00:00"), Clock::time_point{std::chrono::milliseconds(1764410400000)});
  for (const char* bad : {"", "yesterday", "2025-11-29", "2025-11-29T10:00:00+01:00", "2025-11-29T10:00:00Zx"}) {
    EXPECT_EQ(parse_utc(bad), std::nullopt) << bad;
  }
}

TEST(Timestamp, AgeIsSecondsSince) {
  const Clock::time_point now{std::chrono::milliseconds(1764410400123)};
  EXPECT_DOUBLE_EQ(*age_seconds("2025-11-29T09:59:30.123Z", now), 30.0);
  EXPECT_EQ(age_seconds("", now), std::nullopt);
}

TEST(Timestamp, FormatAge) {
  const struct { double s; const char* text; } cases[] = {
      {0, "0s"}, {4.9, "4s"}, {59, "59s"}, {60, "1m00s"}, {184, "3m04s"},
      {3600, "1h00m"}, {7500, "2h05m"}, {86400 * 3 + 3600 * 4, "3d04h"}, {-5, "0s"},
  };
  for (const auto& c : cases) EXPECT_EQ(format_age(c.s), c.text) << c.s;
}

}  // namespace
}  // namespace hcx::store
