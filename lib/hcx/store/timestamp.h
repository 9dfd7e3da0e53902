// UTC timestamps as stored in the database: ISO-8601 text with milliseconds,
// "2026-11-29T10:00:00.123Z". They sort as text and SQLite's julianday() reads
// them, so ages can be computed in SQL or here.
#pragma once

#include <chrono>
#include <optional>
#include <string>

namespace hcx::store {

using Clock = std::chrono::system_clock;

// `t` (default: now) as "YYYY-MM-DDTHH:MM:SS.mmmZ".
std::string utc_iso(Clock::time_point t = Clock::now());

// Parses "YYYY-MM-DDTHH:MM:SS[.fff]Z" (also without the Z). nullopt when `s`
// is empty or not in that form.
std::optional<Clock::time_point> parse_utc(const std::string& s);

// Seconds from `iso` to `now` (negative when `iso` lies in the future);
// nullopt when `iso` does not parse.
std::optional<double> age_seconds(const std::string& iso, Clock::time_point now = Clock::now());

// A short human age: "4s", "3m04s", "2h05m", "3d04h".
std::string format_age(double seconds);

}  // namespace hcx::store
