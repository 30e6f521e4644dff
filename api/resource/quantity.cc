#include "api/resource/quantity.h"

#include <algorithm>
#include <charconv>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <ostream>
#include <string>
#include <string_view>
#include <utility>

#include "absl/numeric/int128.h"
#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace kslice::resource {
namespace {

// Upstream's three parse errors, word for word: API validation messages quote them.
constexpr char kFormatWrong[] =
    "quantities must match the regular expression "
    "'^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'";
constexpr char kNumericWrong[] = "unable to parse numeric part of quantity";
constexpr char kSuffixWrong[] = "unable to parse quantity's suffix";

// Parsed values are rounded to this decimal exponent (nano units).
constexpr int64_t kMinExponent = -9;
// A non-zero parsed value whose leading digit sits at 10^kMaxLeadExponent or above is
// rejected, which keeps every operation on it cheap.
constexpr int64_t kMaxLeadExponent = 999;
// Exponents are clamped to this before any arithmetic on them; the clamp never
// changes a result (beyond it a non-zero value is far out of range either way).
constexpr int64_t kExponentClamp = int64_t{1} << 40;

constexpr int64_t kInt64Max = std::numeric_limits<int64_t>::max();
constexpr int64_t kInt64Min = std::numeric_limits<int64_t>::min();

constexpr uint64_t kPow10[20] = {
    1ULL,
    10ULL,
    100ULL,
    1000ULL,
    10000ULL,
    100000ULL,
    1000000ULL,
    10000000ULL,
    100000000ULL,
    1000000000ULL,
    10000000000ULL,
    100000000000ULL,
    1000000000000ULL,
    10000000000000ULL,
    100000000000000ULL,
    1000000000000000ULL,
    10000000000000000ULL,
    100000000000000000ULL,
    1000000000000000000ULL,
    10000000000000000000ULL,
};

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

uint64_t Magnitude(int64_t v) {
  return v < 0 ? uint64_t{0} - static_cast<uint64_t>(v) : static_cast<uint64_t>(v);
}

void AppendUint64(uint64_t v, std::string* out);

void AppendUint128(absl::uint128 v, std::string* out) {
  if (absl::Uint128High64(v) == 0) {
    AppendUint64(absl::Uint128Low64(v), out);
    return;
  }
  char buf[40];
  char* end = buf + sizeof(buf);
  char* p = end;
  do {
    *--p = static_cast<char>('0' + static_cast<int>(v % 10));
    v /= 10;
  } while (v != 0);
  out->append(p, end);
}

void AppendUint64(uint64_t v, std::string* out) {
  char buf[24];
  std::to_chars_result r = std::to_chars(buf, buf + sizeof(buf), v);
  out->append(buf, r.ptr);
}

// ---------------------------------------------------------------------------------
// Arbitrary-precision decimal for the values the int64 form cannot hold.

// (neg ? -1 : 1) * mag * 10^exp. Normalized: mag has no leading or trailing zeros,
// and zero is an empty mag with neg false and exp 0.
struct BigDec {
  bool neg = false;
  std::string mag;
  int64_t exp = 0;
};

void Normalize(BigDec& d) {
  const size_t first = d.mag.find_first_not_of('0');
  if (first == std::string::npos) {
    d = BigDec();
    return;
  }
  d.mag.erase(0, first);
  const size_t last = d.mag.find_last_not_of('0');
  d.exp += static_cast<int64_t>(d.mag.size() - 1 - last);
  d.mag.resize(last + 1);
}

BigDec BigFromInt(int64_t mantissa, int64_t exponent) {
  BigDec d;
  d.neg = mantissa < 0;
  AppendUint64(Magnitude(mantissa), &d.mag);
  d.exp = exponent;
  Normalize(d);
  return d;
}

// Position just above the leading digit: |d| is in [10^(top-1), 10^top).
int64_t Top(const BigDec& d) { return static_cast<int64_t>(d.mag.size()) + d.exp; }

// Compares |a| with |b|; both normalized.
int CompareMagnitude(const BigDec& a, const BigDec& b) {
  if (a.mag.empty() || b.mag.empty()) {
    return (a.mag.empty() ? 0 : 1) - (b.mag.empty() ? 0 : 1);
  }
  if (Top(a) != Top(b)) return Top(a) < Top(b) ? -1 : 1;
  const size_t n = std::max(a.mag.size(), b.mag.size());
  for (size_t i = 0; i < n; ++i) {
    const char ca = i < a.mag.size() ? a.mag[i] : '0';
    const char cb = i < b.mag.size() ? b.mag[i] : '0';
    if (ca != cb) return ca < cb ? -1 : 1;
  }
  return 0;
}

int BigSign(const BigDec& d) { return d.mag.empty() ? 0 : (d.neg ? -1 : 1); }

int CompareBig(const BigDec& a, const BigDec& b) {
  const int sa = BigSign(a);
  const int sb = BigSign(b);
  if (sa != sb) return sa < sb ? -1 : 1;
  const int c = CompareMagnitude(a, b);
  return sa < 0 ? -c : c;
}

// The magnitude of d written out down to exponent e (e <= d.exp).
std::string DigitsAt(const BigDec& d, int64_t e) {
  std::string s = d.mag;
  s.append(static_cast<size_t>(d.exp - e), '0');
  return s;
}

// Digit strings of any length, right-aligned.
std::string AddDigits(const std::string& a, const std::string& b) {
  std::string out(std::max(a.size(), b.size()) + 1, '0');
  int carry = 0;
  for (size_t i = 0; i < out.size(); ++i) {
    int v = carry;
    if (i < a.size()) v += a[a.size() - 1 - i] - '0';
    if (i < b.size()) v += b[b.size() - 1 - i] - '0';
    out[out.size() - 1 - i] = static_cast<char>('0' + v % 10);
    carry = v / 10;
  }
  return out;
}

// a - b where a >= b as numbers.
std::string SubDigits(const std::string& a, const std::string& b) {
  std::string out = a;
  int borrow = 0;
  for (size_t i = 0; i < out.size(); ++i) {
    int v = (a[a.size() - 1 - i] - '0') - borrow;
    if (i < b.size()) v -= b[b.size() - 1 - i] - '0';
    borrow = v < 0 ? 1 : 0;
    out[out.size() - 1 - i] = static_cast<char>('0' + v + 10 * borrow);
  }
  return out;
}

BigDec AddBig(const BigDec& a, const BigDec& b) {
  if (b.mag.empty()) return a;
  if (a.mag.empty()) return b;
  const int64_t e = std::min(a.exp, b.exp);
  const std::string x = DigitsAt(a, e);
  const std::string y = DigitsAt(b, e);
  BigDec r;
  r.exp = e;
  if (a.neg == b.neg) {
    r.neg = a.neg;
    r.mag = AddDigits(x, y);
  } else {
    const int c = CompareMagnitude(a, b);
    if (c == 0) return BigDec();
    r.neg = c > 0 ? a.neg : b.neg;
    r.mag = c > 0 ? SubDigits(x, y) : SubDigits(y, x);
  }
  Normalize(r);
  return r;
}

// mag *= m, m < 2^32.
void MultiplyDigits(std::string& mag, uint32_t m) {
  uint64_t carry = 0;
  for (size_t i = mag.size(); i-- > 0;) {
    const uint64_t v = static_cast<uint64_t>(mag[i] - '0') * m + carry;
    mag[i] = static_cast<char>('0' + v % 10);
    carry = v / 10;
  }
  std::string head;
  while (carry != 0) {
    head.insert(head.begin(), static_cast<char>('0' + carry % 10));
    carry /= 10;
  }
  mag.insert(0, head);
}

// mag /= d, returning the remainder; leading zeros of the quotient are dropped.
uint32_t DivideDigits(std::string& mag, uint32_t d) {
  uint64_t rem = 0;
  for (char& c : mag) {
    rem = rem * 10 + static_cast<uint64_t>(c - '0');
    c = static_cast<char>('0' + rem / d);
    rem %= d;
  }
  const size_t first = mag.find_first_not_of('0');
  mag.erase(0, first == std::string::npos ? mag.size() : first);
  return static_cast<uint32_t>(rem);
}

void IncrementDigits(std::string& mag) {
  for (size_t i = mag.size(); i-- > 0;) {
    if (mag[i] != '9') {
      ++mag[i];
      return;
    }
    mag[i] = '0';
  }
  mag.insert(mag.begin(), '1');
}

// Rounds d away from zero to a multiple of 10^e; returns whether that was exact.
bool RoundUpTo(BigDec& d, int64_t e) {
  if (d.mag.empty() || d.exp >= e) return true;
  const uint64_t drop = static_cast<uint64_t>(e - d.exp);
  bool exact;
  if (drop >= d.mag.size()) {
    d.mag = "1";  // every digit is below 10^e and one of them is non-zero
    exact = false;
  } else {
    const size_t keep = d.mag.size() - static_cast<size_t>(drop);
    exact = d.mag.find_first_not_of('0', keep) == std::string::npos;
    d.mag.resize(keep);
    if (!exact) IncrementDigits(d.mag);
  }
  d.exp = e;
  Normalize(d);
  return exact;
}

// An integral d (exp >= 0) as int64, saturating.
int64_t SaturatingInt64(const BigDec& d) {
  if (d.mag.empty()) return 0;
  const int64_t saturated = d.neg ? kInt64Min : kInt64Max;
  if (Top(d) > 19) return saturated;
  absl::uint128 v = 0;
  for (char c : d.mag) v = v * 10 + static_cast<uint64_t>(c - '0');
  for (int64_t i = 0; i < d.exp; ++i) v *= 10;
  const absl::uint128 limit = d.neg ? absl::uint128(uint64_t{1} << 63) : absl::uint128(kInt64Max);
  if (v > limit) return saturated;
  const uint64_t u = absl::Uint128Low64(v);
  return d.neg ? static_cast<int64_t>(uint64_t{0} - u) : static_cast<int64_t>(u);
}

std::string_view DecimalSuffix(int64_t exponent) {
  static constexpr std::string_view kSuffixes[] = {"n", "u", "m", "", "k", "M", "G", "T", "P", "E"};
  return kSuffixes[(exponent + 9) / 3];
}

std::string_view BinarySuffix(int times1024) {
  static constexpr std::string_view kSuffixes[] = {"", "Ki", "Mi", "Gi", "Ti", "Pi", "Ei"};
  return kSuffixes[times1024];
}

// Appends the suffix for a decimal exponent that is a multiple of 3 in [-9, 18]
// (DecimalSI) or any exponent (DecimalExponent).
void AppendDecimalSuffix(int64_t exponent, Format format, std::string* out) {
  if (format == Format::kDecimalSI) {
    out->append(DecimalSuffix(exponent));
  } else if (exponent != 0) {
    char buf[24];
    buf[0] = 'e';
    std::to_chars_result r = std::to_chars(buf + 1, buf + sizeof(buf), exponent);
    out->append(buf, r.ptr);
  }
}

// Canonical decimal form of a normalized non-zero BigDec.
std::string BigDecimalString(BigDec d, Format format) {
  // Lower the exponent to a multiple of 3 (towards -infinity), and for DecimalSI to at
  // most 18, the largest suffix.
  int64_t lower = ((d.exp % 3) + 3) % 3;
  if (format == Format::kDecimalSI && d.exp - lower > 18) lower = d.exp - 18;
  d.mag.append(static_cast<size_t>(lower), '0');
  d.exp -= lower;
  std::string out = d.neg ? "-" : "";
  out += d.mag;
  AppendDecimalSuffix(d.exp, format, &out);
  return out;
}

std::string BigBinaryString(const BigDec& d) {
  static const BigDec k1024 = BigFromInt(1024, 0);
  if (CompareMagnitude(d, k1024) < 0) return BigDecimalString(d, Format::kDecimalSI);
  BigDec whole = d;
  if (!RoundUpTo(whole, 0)) return BigDecimalString(d, Format::kDecimalSI);
  std::string digits = DigitsAt(whole, 0);
  int times = 0;
  while (times < 6) {
    std::string quotient = digits;
    if (DivideDigits(quotient, 1024) != 0) break;
    digits = std::move(quotient);
    ++times;
  }
  std::string out = d.neg ? "-" : "";
  out += digits;
  out += BinarySuffix(times);
  return out;
}

// ---------------------------------------------------------------------------------
// Parsing.

struct Pieces {
  bool negative = false;
  std::string_view num;    // integer digits as written, possibly empty
  std::string_view denom;  // fraction digits, possibly empty
  std::string_view suffix;
};

bool IsSuffixChar(char c) {
  switch (c) {
    case 'e': case 'E': case 'i': case 'n': case 'u': case 'm':
    case 'k': case 'K': case 'M': case 'G': case 'T': case 'P':
      return true;
    default:
      return false;
  }
}

// [sign] digits ["." digits] suffix-chars [sign] digits, all optional, nothing else.
bool Split(std::string_view s, Pieces* p) {
  size_t i = 0;
  const size_t n = s.size();
  if (i < n && (s[i] == '+' || s[i] == '-')) {
    p->negative = s[i] == '-';
    ++i;
  }
  size_t start = i;
  while (i < n && IsDigit(s[i])) ++i;
  p->num = s.substr(start, i - start);
  if (i < n && s[i] == '.') {
    start = ++i;
    while (i < n && IsDigit(s[i])) ++i;
    p->denom = s.substr(start, i - start);
  }
  start = i;
  while (i < n && IsSuffixChar(s[i])) ++i;
  if (i < n && (s[i] == '+' || s[i] == '-')) ++i;
  while (i < n && IsDigit(s[i])) ++i;
  if (i != n) return false;
  p->suffix = s.substr(start);
  return true;
}

// Go's strconv.ParseInt(s, 10, 64).
bool ParseInt64(std::string_view s, int64_t* out) {
  bool negative = false;
  if (!s.empty() && (s[0] == '+' || s[0] == '-')) {
    negative = s[0] == '-';
    s.remove_prefix(1);
  }
  if (s.empty()) return false;
  const uint64_t limit = negative ? uint64_t{1} << 63 : static_cast<uint64_t>(kInt64Max);
  uint64_t v = 0;
  for (char c : s) {
    if (!IsDigit(c)) return false;
    const uint64_t d = static_cast<uint64_t>(c - '0');
    if (v > (limit - d) / 10) return false;
    v = v * 10 + d;
  }
  *out = negative ? static_cast<int64_t>(uint64_t{0} - v) : static_cast<int64_t>(v);
  return true;
}

struct SuffixMeaning {
  bool binary = false;  // exponent is a power of 2, else of 10
  int64_t exponent = 0;
  Format format = Format::kDecimalSI;
};

bool InterpretSuffix(std::string_view s, SuffixMeaning* m) {
  if (s.empty()) return true;
  if (s.size() == 1) {
    static constexpr std::string_view kLetters = "numkMGTPE";
    static constexpr int kExponents[] = {-9, -6, -3, 3, 6, 9, 12, 15, 18};
    const size_t i = kLetters.find(s[0]);
    if (i != std::string_view::npos) {
      m->exponent = kExponents[i];
      return true;
    }
  } else if (s.size() == 2 && s[1] == 'i') {
    static constexpr std::string_view kLetters = "KMGTPE";
    const size_t i = kLetters.find(s[0]);
    if (i != std::string_view::npos) {
      m->binary = true;
      m->exponent = 10 * static_cast<int64_t>(i + 1);
      m->format = Format::kBinarySI;
      return true;
    }
  }
  if (s.size() > 1 && (s[0] == 'e' || s[0] == 'E')) {
    if (!ParseInt64(s.substr(1), &m->exponent)) return false;
    m->format = Format::kDecimalExponent;
    return true;
  }
  return false;
}

// The digits of a + b (string views), read as one number; at most 19 digits.
uint64_t ReadDigits(std::string_view a, std::string_view b) {
  uint64_t v = 0;
  for (char c : a) v = v * 10 + static_cast<uint64_t>(c - '0');
  for (char c : b) v = v * 10 + static_cast<uint64_t>(c - '0');
  return v;
}

}  // namespace

// Reaches Quantity's representation for the helpers above.
struct QuantityAccess {
  static bool IsSmall(const Quantity& q) { return q.digits_.empty(); }

  static BigDec ToBig(const Quantity& q) {
    if (IsSmall(q)) return BigFromInt(q.mantissa_, q.exponent_);
    BigDec d;
    d.neg = q.negative_;
    d.mag = q.digits_;
    d.exp = q.exponent_;
    return d;
  }

  // Stores d (any form) in q, in the int64 form when it fits.
  static void SetBig(Quantity& q, BigDec d) {
    Normalize(d);
    q.negative_ = false;
    q.digits_.clear();
    q.exponent_ = static_cast<int32_t>(d.exp);
    if (d.mag.size() <= 19) {
      absl::uint128 v = 0;
      for (char c : d.mag) v = v * 10 + static_cast<uint64_t>(c - '0');
      if (v <= absl::uint128(kInt64Max) || (d.neg && v == absl::uint128(uint64_t{1} << 63))) {
        const uint64_t u = absl::Uint128Low64(v);
        q.mantissa_ = d.neg ? static_cast<int64_t>(uint64_t{0} - u) : static_cast<int64_t>(u);
        return;
      }
    }
    q.mantissa_ = 0;
    q.negative_ = d.neg;
    q.digits_ = std::move(d.mag);
  }

  static void SetSmall(Quantity& q, int64_t mantissa, int64_t exponent) {
    q.mantissa_ = mantissa;
    q.exponent_ = static_cast<int32_t>(exponent);
    q.negative_ = false;
    q.digits_.clear();
  }

  static absl::StatusOr<Quantity> Parse(std::string_view text);
  static std::string Canonical(const Quantity& q);
  static int64_t ScaledValue(const Quantity& q, int scale);
  static int Compare(const Quantity& a, const Quantity& b);
  static void Add(Quantity& q, const Quantity& y);
};

absl::StatusOr<Quantity> QuantityAccess::Parse(std::string_view text) {
  Pieces p;
  if (text.empty() || !Split(text, &p)) return absl::InvalidArgumentError(kFormatWrong);
  SuffixMeaning suffix;
  if (!InterpretSuffix(p.suffix, &suffix)) return absl::InvalidArgumentError(kSuffixWrong);

  const std::string_view num = p.num.substr(std::min(p.num.find_first_not_of('0'), p.num.size()));
  const std::string_view denom = p.denom;
  const int64_t exponent = std::clamp(suffix.exponent, -kExponentClamp, kExponentClamp);
  const int64_t denom_len = static_cast<int64_t>(denom.size());
  // The number is num.denom * 10^exponent (times 2^exponent for BinarySI), i.e.
  // (num denom) * 10^point.
  const int64_t point = suffix.binary ? -denom_len : exponent - denom_len;

  // Upstream parses short numbers (at most 18 digits, down to nano; small BinarySI
  // integers) on an int64 fast path, and there keeps the input as the printed form
  // when its digits look canonical: for decimal suffixes no leading zero digit, no
  // trailing "000" and an exponent that is a multiple of 3, for binary ones a number
  // not divisible by 8. Its slow path fails on a number without any digit.
  const int64_t upstream_num_len = std::max<int64_t>(static_cast<int64_t>(num.size()), 1);
  bool upstream_fast;
  if (suffix.binary) {
    upstream_fast = denom.empty() && 15 - upstream_num_len - suffix.exponent * 3 / 10 - 1 >= 0;
  } else {
    upstream_fast = upstream_num_len + denom_len <= 18 && point >= kMinExponent;
  }
  if (p.num.empty() && p.denom.empty() && !upstream_fast) {
    return absl::InvalidArgumentError(kNumericWrong);
  }
  bool keep_text = false;
  if (upstream_fast && !num.empty()) {
    if (suffix.binary) {
      keep_text = ReadDigits(num, {}) % 8 != 0;
    } else {
      // Digits of num followed by denom, counted from the end ('1' past the start).
      auto digit_from_end = [&](size_t k) {
        return k < denom.size() ? denom[denom.size() - 1 - k]
                                : (k - denom.size() < num.size() ? num[num.size() - 1 - (k - denom.size())]
                                                                 : '1');
      };
      const bool ends_000 =
          digit_from_end(0) == '0' && digit_from_end(1) == '0' && digit_from_end(2) == '0';
      keep_text = point % 3 == 0 && !ends_000;
    }
  }

  Quantity q;
  q.format_ = suffix.format;
  if (keep_text) q.text_ = std::string(text);

  // Significant digits: num then denom, leading zeros dropped.
  std::string_view lead = num;
  std::string_view tail = denom;
  if (lead.empty()) {
    tail = tail.substr(std::min(tail.find_first_not_of('0'), tail.size()));
  }
  const int64_t sig_len = static_cast<int64_t>(lead.size() + tail.size());
  if (sig_len == 0) return q;  // zero
  const int64_t top = sig_len + point;  // |value| (before any 2^k) < 10^top

  if (!suffix.binary) {
    if (top - 1 > kMaxLeadExponent) {
      return absl::InvalidArgumentError(
          absl::StrCat("quantity too large: magnitude must be below 1e", kMaxLeadExponent + 1));
    }
    if (sig_len <= 18 && point >= kMinExponent) {
      const int64_t v = static_cast<int64_t>(ReadDigits(lead, tail));
      SetSmall(q, p.negative ? -v : v, point);
      return q;
    }
    BigDec d;
    d.neg = p.negative;
    d.mag.reserve(static_cast<size_t>(sig_len));
    d.mag.append(lead);
    d.mag.append(tail);
    d.exp = point;
    Normalize(d);
    RoundUpTo(d, kMinExponent);
    SetBig(q, std::move(d));
    return q;
  }

  // BinarySI: integers that fit stay in int64; above 2^63-1 the value is capped.
  const int shift = static_cast<int>(suffix.exponent);
  if (point >= 0 && top <= 18) {
    const uint64_t v = ReadDigits(lead, tail) * kPow10[point];
    if (v <= (static_cast<uint64_t>(kInt64Max) >> shift)) {
      const int64_t shifted = static_cast<int64_t>(v << shift);
      SetSmall(q, p.negative ? -shifted : shifted, 0);
      return q;
    }
  }
  if (top > 19) {  // at least 10^19 before the multiplier
    SetSmall(q, p.negative ? -kInt64Max : kInt64Max, 0);
    return q;
  }
  BigDec d;
  d.neg = p.negative;
  d.mag.append(lead);
  d.mag.append(tail);
  d.exp = point;
  Normalize(d);
  for (int i = 0; i < shift; i += 10) MultiplyDigits(d.mag, 1024);
  Normalize(d);
  RoundUpTo(d, kMinExponent);
  static const BigDec kMax = BigFromInt(kInt64Max, 0);
  if (CompareMagnitude(d, kMax) > 0) {
    SetSmall(q, p.negative ? -kInt64Max : kInt64Max, 0);
    return q;
  }
  if (Top(d) <= 0) q.format_ = Format::kDecimalSI;  // 0 < |value| < 1
  SetBig(q, std::move(d));
  return q;
}

std::string QuantityAccess::Canonical(const Quantity& q) {
  if (q.IsZero()) return "0";
  if (!IsSmall(q)) {
    const BigDec d = ToBig(q);
    return q.format_ == Format::kBinarySI ? BigBinaryString(d) : BigDecimalString(d, q.format_);
  }
  const bool negative = q.mantissa_ < 0;
  uint64_t u = Magnitude(q.mantissa_);
  int64_t e = q.exponent_;
  Format format = q.format_;

  if (format == Format::kBinarySI) {
    // Values in (-1024, 1024) and non-integers print as DecimalSI.
    bool small_or_fraction;
    uint64_t whole = 0;
    if (e >= 0) {
      if (e > 19 || absl::uint128(u) * kPow10[e] > absl::uint128(std::numeric_limits<uint64_t>::max())) {
        return BigBinaryString(ToBig(q));
      }
      whole = u * kPow10[e];
      small_or_fraction = whole < 1024;
    } else {
      const uint64_t unit = kPow10[-e];  // e >= -9
      small_or_fraction = u % unit != 0 || u / unit < 1024;
      whole = u / unit;
    }
    if (!small_or_fraction) {
      // Like upstream's int64 path, -2^63 keeps all its digits; "-8Ei" would parse back
      // capped at -(2^63-1).
      int times = 0;
      while (times < 6 && whole % 1024 == 0 && q.mantissa_ != kInt64Min) {
        whole /= 1024;
        ++times;
      }
      std::string out = negative ? "-" : "";
      AppendUint64(whole, &out);
      out += BinarySuffix(times);
      return out;
    }
    format = Format::kDecimalSI;
  }

  while (u % 10 == 0) {
    u /= 10;
    ++e;
  }
  const int64_t lower = ((e % 3) + 3) % 3;
  e -= lower;
  if (e < kMinExponent || (format == Format::kDecimalSI && e > 18)) {
    return BigDecimalString(ToBig(q), format);
  }
  std::string out = negative ? "-" : "";
  AppendUint128(absl::uint128(u) * kPow10[lower], &out);
  AppendDecimalSuffix(e, format, &out);
  return out;
}

int64_t QuantityAccess::ScaledValue(const Quantity& q, int scale) {
  if (!IsSmall(q)) {
    BigDec d = ToBig(q);
    RoundUpTo(d, scale);
    d.exp -= scale;
    return SaturatingInt64(d);
  }
  const int64_t m = q.mantissa_;
  if (m == 0) return 0;
  const int64_t saturated = m < 0 ? kInt64Min : kInt64Max;
  if (q.exponent_ >= scale) {
    const int64_t d = q.exponent_ - scale;
    int64_t result;
    if (d > 18 || __builtin_mul_overflow(m, static_cast<int64_t>(kPow10[d]), &result)) {
      return saturated;
    }
    return result;
  }
  const int64_t unit = static_cast<int64_t>(kPow10[scale - q.exponent_]);  // <= 10^18
  int64_t result = m / unit;
  if (m % unit != 0) result += m < 0 ? -1 : 1;
  return result;
}

int QuantityAccess::Compare(const Quantity& a, const Quantity& b) {
  if (IsSmall(a) && IsSmall(b)) {
    if (a.exponent_ == b.exponent_) return (a.mantissa_ > b.mantissa_) - (a.mantissa_ < b.mantissa_);
    const int sa = a.Sign();
    const int sb = b.Sign();
    if (sa != sb || sa == 0) return (sa > sb) - (sa < sb);
    const int64_t diff = static_cast<int64_t>(a.exponent_) - b.exponent_;
    if (diff >= -18 && diff <= 18) {
      absl::int128 x = a.mantissa_;
      absl::int128 y = b.mantissa_;
      if (diff > 0) {
        x *= kPow10[diff];
      } else {
        y *= kPow10[-diff];
      }
      return (x > y) - (x < y);
    }
  }
  return CompareBig(ToBig(a), ToBig(b));
}

void QuantityAccess::Add(Quantity& q, const Quantity& y) {
  q.text_.clear();
  if (q.IsZero()) q.format_ = y.format_;
  if (y.IsZero()) return;
  if (IsSmall(q) && IsSmall(y)) {
    int64_t a = q.mantissa_;
    int64_t b = y.mantissa_;
    const int64_t e = std::min(q.exponent_, y.exponent_);
    const int64_t da = q.exponent_ - e;
    const int64_t db = y.exponent_ - e;
    int64_t sum;
    if (da <= 18 && db <= 18 && !__builtin_mul_overflow(a, static_cast<int64_t>(kPow10[da]), &a) &&
        !__builtin_mul_overflow(b, static_cast<int64_t>(kPow10[db]), &b) &&
        !__builtin_add_overflow(a, b, &sum)) {
      SetSmall(q, sum, sum == 0 ? 0 : e);
      return;
    }
  }
  SetBig(q, AddBig(ToBig(q), ToBig(y)));
}

absl::StatusOr<Quantity> Quantity::Parse(std::string_view text) {
  return QuantityAccess::Parse(text);
}

Quantity Quantity::FromInt(int64_t value, Format format) {
  Quantity q;
  q.mantissa_ = value;
  q.format_ = format;
  return q;
}

Quantity Quantity::FromMilli(int64_t milli, Format format) {
  Quantity q;
  q.mantissa_ = milli;
  q.exponent_ = milli == 0 ? 0 : -3;
  q.format_ = format;
  return q;
}

std::string Quantity::String() const {
  if (!text_.empty()) return text_;
  return QuantityAccess::Canonical(*this);
}

std::string Quantity::Canonical() const { return QuantityAccess::Canonical(*this); }

int Quantity::Compare(const Quantity& other) const { return QuantityAccess::Compare(*this, other); }

int64_t Quantity::Value() const { return QuantityAccess::ScaledValue(*this, 0); }

int64_t Quantity::MilliValue() const { return QuantityAccess::ScaledValue(*this, -3); }

bool Quantity::IsZero() const { return digits_.empty() && mantissa_ == 0; }

int Quantity::Sign() const {
  if (!digits_.empty()) return negative_ ? -1 : 1;
  return (mantissa_ > 0) - (mantissa_ < 0);
}

void Quantity::Add(const Quantity& other) { QuantityAccess::Add(*this, other); }

void Quantity::Sub(const Quantity& other) {
  Quantity negated = other;
  negated.Neg();
  QuantityAccess::Add(*this, negated);
}

void Quantity::Neg() {
  text_.clear();
  if (!digits_.empty() || mantissa_ == kInt64Min) {
    // Either form may be needed afterwards: 2^63 <-> -2^63.
    BigDec d = QuantityAccess::ToBig(*this);
    d.neg = !d.neg;
    QuantityAccess::SetBig(*this, std::move(d));
  } else {
    mantissa_ = -mantissa_;
  }
}

std::string_view FormatName(Format format) {
  switch (format) {
    case Format::kDecimalExponent:
      return "DecimalExponent";
    case Format::kBinarySI:
      return "BinarySI";
    case Format::kDecimalSI:
      return "DecimalSI";
  }
  return "DecimalExponent";
}

std::ostream& operator<<(std::ostream& os, const Quantity& q) { return os << q.String(); }

absl::StatusOr<std::string> CanonicalString(std::string_view text) {
  absl::StatusOr<Quantity> q = Quantity::Parse(text);
  if (!q.ok()) return q.status();
  return q->String();
}

}  // namespace kslice::resource
