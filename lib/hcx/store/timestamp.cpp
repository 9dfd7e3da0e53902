// UTC ISO-8601 timestamps with milliseconds (see timestamp.h).
#include "hcx/store/timestamp.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <ctime>

namespace hcx::store {

std::string utc_iso(Clock::time_point t) {
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
  const std::time_t secs = static_cast<std::time_t>(ms >= 0 ? ms / 1000 : (ms - 999) / 1000);
  const int frac = static_cast<int>(ms - static_cast<int64_t>(secs) * 1000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[64];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, frac);
  return buf;
}

std::optional<Clock::time_point> parse_utc(const std::string& s) {
  std::tm tm{};
  int consumed = 0;
  if (std::sscanf(s.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d%n", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
                  &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &consumed) != 6 ||
      consumed != 19) {
    return std::nullopt;
  }
  std::size_t i = 19;
  int64_t ms = 0;
  if (i < s.size() && s[i] == '.') {
    int scale = 100;
    for (++i; i < s.size() && s[i] >= '0' && s[i] <= '9'; ++i) {
      ms += (s[i] - '0') * scale;
      scale /= 10;
    }
  }
  if (i < s.size() && s[i] == 'Z') ++i;
  if (i != s.size()) return std::nullopt;
  tm.tm_year -= 1900;
  tm.tm_mon -= 1;
  const std::time_t secs = timegm(&tm);
  return Clock::time_point(std::chrono::milliseconds(static_cast<int64_t>(secs) * 1000 + ms));
}

std::optional<double> age_seconds(const std::string& iso, Clock::time_point now) {
  const auto t = parse_utc(iso);
  if (!t) return std::nullopt;
  return std::chrono::duration<double>(now - *t).count();
}

std::string format_age(double seconds) {
  const int64_t s = static_cast<int64_t>(std::floor(std::max(seconds, 0.0)));
  char buf[32];
  if (s < 60) {
    std::snprintf(buf, sizeof buf, "%llds", static_cast<long long>(s));
  } else if (s < 3600) {
    std::snprintf(buf, sizeof buf, "%lldm%02llds", static_cast<long long>(s / 60),
                  static_cast<long long>(s % 60));
  } else if (s < 86400) {
    std::snprintf(buf, sizeof buf, "%lldh%02lldm", static_cast<long long>(s / 3600),
                  static_cast<long long>(s % 3600 / 60));
  } else {
    std::snprintf(buf, sizeof buf, "%lldd%02lldh", static_cast<long long>(s / 86400),
                  static_cast<long long>(s % 86400 / 3600));
  }
  return buf;
}

}  // namespace hcx::store
