#include "api/codec/go_time.h"

#include <cstdlib>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"

namespace kslice::codec {

namespace {

bool TakeDigits(absl::string_view& s, int n, int& out) {
  if (static_cast<int>(s.size()) < n) return false;
  int v = 0;
  for (int i = 0; i < n; ++i) {
    if (!absl::ascii_isdigit(static_cast<unsigned char>(s[i]))) return false;
    v = v * 10 + (s[i] - '0');
  }
  out = v;
  s.remove_prefix(n);
  return true;
}

bool TakeChar(absl::string_view& s, char c) {
  if (s.empty() || s[0] != c) return false;
  s.remove_prefix(1);
  return true;
}

}  // namespace

absl::StatusOr<std::string> FormatRfc3339(UnixTime t, int fraction_digits) {
  absl::CivilSecond cs = absl::ToCivilSecond(absl::FromUnixSeconds(t.seconds), absl::UTCTimeZone());
  if (cs.year() < 0 || cs.year() > 9999) {
    return absl::InvalidArgumentError(
        absl::StrCat("time year ", cs.year(), " is outside of range [0,9999]"));
  }
  std::string out = absl::StrFormat("%04d-%02d-%02dT%02d:%02d:%02d", cs.year(), cs.month(),
                                    cs.day(), cs.hour(), cs.minute(), cs.second());
  if (fraction_digits > 0) {
    int64_t frac = t.nanos;
    for (int i = fraction_digits; i < 9; ++i) frac /= 10;
    absl::StrAppend(&out, ".", absl::StrFormat("%0*d", fraction_digits, frac));
  }
  out.push_back('Z');
  return out;
}

absl::StatusOr<UnixTime> ParseRfc3339(absl::string_view text) {
  absl::string_view s = text;
  int year, month, day, hour, minute, second;
  auto bad = [&] {
    return absl::InvalidArgumentError(absl::StrCat("invalid RFC 3339 time \"", text, "\""));
  };
  if (!TakeDigits(s, 4, year) || !TakeChar(s, '-') || !TakeDigits(s, 2, month) ||
      !TakeChar(s, '-') || !TakeDigits(s, 2, day) || !TakeChar(s, 'T') ||
      !TakeDigits(s, 2, hour) || !TakeChar(s, ':') || !TakeDigits(s, 2, minute) ||
      !TakeChar(s, ':') || !TakeDigits(s, 2, second)) {
    return bad();
  }
  if (month < 1 || month > 12 || day < 1 || hour > 23 || minute > 59 || second > 59) return bad();
  absl::CivilDay civil_day(year, month, day);
  if (civil_day.day() != day || civil_day.month() != month) return bad();
  int32_t nanos = 0;
  if (TakeChar(s, '.') || TakeChar(s, ',')) {
    int digits = 0;
    while (!s.empty() && absl::ascii_isdigit(static_cast<unsigned char>(s[0]))) {
      if (digits < 9) {
        nanos = nanos * 10 + (s[0] - '0');
      }
      ++digits;
      s.remove_prefix(1);
    }
    if (digits == 0) return bad();
    for (int i = digits; i < 9; ++i) nanos *= 10;
  }
  int offset_seconds = 0;
  if (TakeChar(s, 'Z')) {
  } else if (!s.empty() && (s[0] == '+' || s[0] == '-')) {
    int sign = s[0] == '-' ? -1 : 1;
    s.remove_prefix(1);
    int oh, om;
    if (!TakeDigits(s, 2, oh) || !TakeChar(s, ':') || !TakeDigits(s, 2, om) || oh > 23 ||
        om > 59) {
      return bad();
    }
    offset_seconds = sign * (oh * 3600 + om * 60);
  } else {
    return bad();
  }
  if (!s.empty()) return bad();
  absl::Time t = absl::FromCivil(absl::CivilSecond(year, month, day, hour, minute, second),
                                 absl::UTCTimeZone());
  return UnixTime{absl::ToUnixSeconds(t) - offset_seconds, nanos};
}

std::string FormatGoDuration(int64_t nanos) {
  if (nanos == 0) return "0s";
  const bool negative = nanos < 0;
  // Work in unsigned to handle INT64_MIN.
  uint64_t u = negative ? static_cast<uint64_t>(0) - static_cast<uint64_t>(nanos)
                        : static_cast<uint64_t>(nanos);
  std::string out;
  auto fraction = [](uint64_t v, int digits) {
    // v holds `digits` fractional digits; trailing zeros trimmed.
    std::string s = absl::StrFormat("%0*d", digits, v);
    while (!s.empty() && s.back() == '0') s.pop_back();
    return s.empty() ? std::string() : absl::StrCat(".", s);
  };
  if (u < 1000000000ULL) {
    // Below one second: the largest of ns, µs, ms that keeps an integer part.
    if (u < 1000ULL) {
      out = absl::StrCat(u, "ns");
    } else if (u < 1000000ULL) {
      out = absl::StrCat(u / 1000, fraction(u % 1000, 3), "\xc2\xb5s");
    } else {
      out = absl::StrCat(u / 1000000, fraction(u % 1000000, 6), "ms");
    }
  } else {
    uint64_t secs = u / 1000000000ULL;
    uint64_t frac = u % 1000000000ULL;
    uint64_t hours = secs / 3600;
    uint64_t minutes = (secs / 60) % 60;
    secs %= 60;
    if (hours > 0) absl::StrAppend(&out, hours, "h");
    if (hours > 0 || minutes > 0) absl::StrAppend(&out, minutes, "m");
    absl::StrAppend(&out, secs, fraction(frac, 9), "s");
  }
  return negative ? absl::StrCat("-", out) : out;
}

absl::StatusOr<int64_t> ParseGoDuration(absl::string_view text) {
  absl::string_view s = text;
  auto bad = [&](absl::string_view why) {
    return absl::InvalidArgumentError(absl::StrCat("invalid duration \"", text, "\": ", why));
  };
  bool negative = false;
  if (!s.empty() && (s[0] == '-' || s[0] == '+')) {
    negative = s[0] == '-';
    s.remove_prefix(1);
  }
  if (s == "0") return 0;
  if (s.empty()) return bad("empty");
  unsigned __int128 total = 0;
  const unsigned __int128 kLimit = static_cast<unsigned __int128>(1) << 63;
  while (!s.empty()) {
    // Integer part.
    unsigned __int128 whole = 0;
    bool any = false;
    while (!s.empty() && absl::ascii_isdigit(static_cast<unsigned char>(s[0]))) {
      whole = whole * 10 + static_cast<unsigned>(s[0] - '0');
      if (whole > kLimit) return bad("overflow");
      any = true;
      s.remove_prefix(1);
    }
    unsigned __int128 frac = 0, scale = 1;
    if (!s.empty() && s[0] == '.') {
      s.remove_prefix(1);
      while (!s.empty() && absl::ascii_isdigit(static_cast<unsigned char>(s[0]))) {
        if (scale < static_cast<unsigned __int128>(1000000000000000000ULL)) {
          frac = frac * 10 + static_cast<unsigned>(s[0] - '0');
          scale *= 10;
        }
        any = true;
        s.remove_prefix(1);
      }
    }
    if (!any) return bad("expected a number");
    size_t unit_len = 0;
    while (unit_len < s.size() && s[unit_len] != '.' &&
           !absl::ascii_isdigit(static_cast<unsigned char>(s[unit_len]))) {
      ++unit_len;
    }
    absl::string_view unit = s.substr(0, unit_len);
    s.remove_prefix(unit_len);
    uint64_t mult;
    if (unit == "ns") {
      mult = 1;
    } else if (unit == "us" || unit == "\xc2\xb5s" || unit == "\xce\xbcs") {
      mult = 1000;
    } else if (unit == "ms") {
      mult = 1000000;
    } else if (unit == "s") {
      mult = 1000000000ULL;
    } else if (unit == "m") {
      mult = 60ULL * 1000000000ULL;
    } else if (unit == "h") {
      mult = 3600ULL * 1000000000ULL;
    } else if (unit.empty()) {
      return bad("missing unit");
    } else {
      return bad(absl::StrCat("unknown unit \"", unit, "\""));
    }
    unsigned __int128 v = whole * mult + frac * mult / scale;
    if (whole > kLimit / mult + 1 || v > kLimit) return bad("overflow");
    total += v;
    if (total > kLimit) return bad("overflow");
  }
  if (!negative && total == kLimit) return bad("overflow");
  int64_t result = total == kLimit ? INT64_MIN : static_cast<int64_t>(total);
  return negative && total != kLimit ? -result : result;
}

}  // namespace kslice::codec
