// resource.Quantity with the semantics of k8s.io/apimachinery/pkg/api/resource.
//
// A Quantity is an exact decimal number plus the Format it was written in:
//
//   quantity := [sign] number [suffix]
//   number   := digits | digits "." [digits] | "." [digits]      (digits may be absent)
//   suffix   := "" | "n" | "u" | "m" | "k" | "M" | "G" | "T" | "P" | "E"    (DecimalSI)
//             | "Ki" | "Mi" | "Gi" | "Ti" | "Pi" | "Ei"                  (BinarySI)
//             | ("e" | "E") [sign] digits                                (DecimalExponent)
//
// Parsing follows upstream's ParseQuantity exactly, including its leniencies ("1.",
// ".5", "+" and "Mi" are all accepted; the last two are zero) and its three error
// messages. A parsed value is rounded away from zero to a whole number of nano units
// ("0.0000000001" is 1n); a BinarySI value is capped at 2^63-1 in magnitude, and a
// non-zero BinarySI value below 1 in magnitude switches to DecimalSI.
//
// String() is what upstream's String() (and so the API server's JSON) gives: the
// canonical form -- the largest exponent (multiple of 3) or binary suffix that keeps
// the value exact, no fraction ("1.5" is "1500m", "1024Mi" is "1Gi", "1000m" is "1")
// -- except that, like upstream, a parsed string that upstream's parser takes to be
// canonical already is returned verbatim. That check is syntactic, so "1E3", "+1",
// "01", "1." and "1.500" come back unchanged (kubernetes/kubernetes#138165). Canonical()
// always gives the computed form.
//
// Where upstream misbehaves this keeps the value instead (none of these are covered by
// upstream's tests):
//   - Value()/MilliValue() saturate at the int64 limits and always round away from
//     zero; upstream overflows silently and rounds some negative values towards zero.
//   - A DecimalSI value needing an exponent above 18 prints with the "E" suffix and a
//     longer mantissa ("1000E"); upstream drops the suffix and prints "1". Likewise a
//     BinarySI integer at or above 2^70 uses "Ei".
//   - Exponents are not truncated to 32 bits.
// Bounded work: a non-zero value of magnitude 10^1000 or more is rejected (upstream
// accepts "1e999999999" and then takes unbounded time to compare or round it); every
// accepted input is parsed and printed in time linear in its length.
#ifndef KSLICE_API_RESOURCE_QUANTITY_H_
#define KSLICE_API_RESOURCE_QUANTITY_H_

#include <cstdint>
#include <iosfwd>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace kslice::resource {

enum class Format {
  kDecimalExponent,  // 12e6
  kBinarySI,         // 12Mi (12 * 2^20)
  kDecimalSI,        // 12M (12 * 10^6)
};

// Upstream's name for a format: "DecimalExponent", "BinarySI" or "DecimalSI".
std::string_view FormatName(Format format);

class Quantity {
 public:
  // Zero, DecimalSI.
  Quantity() = default;

  // Upstream's ParseQuantity. Errors are InvalidArgument with upstream's messages.
  static absl::StatusOr<Quantity> Parse(std::string_view text);

  // value, or value/1000, in the given format (upstream's NewQuantity and
  // NewMilliQuantity).
  static Quantity FromInt(int64_t value, Format format);
  static Quantity FromMilli(int64_t milli, Format format);

  // See the file comment: the canonical form, or the parsed text when upstream keeps it.
  std::string String() const;
  // The canonical form computed from value and format, never the parsed text.
  std::string Canonical() const;

  // -1, 0 or 1 as this is less than, equal to or greater than `other`. Exact; the
  // format plays no part.
  int Compare(const Quantity& other) const;

  // The value rounded away from zero to an integer, or to thousandths and times 1000;
  // saturating at the int64 limits.
  int64_t Value() const;
  int64_t MilliValue() const;

  bool IsZero() const;
  int Sign() const;
  Format format() const { return format_; }

  // Exact arithmetic in place. If this is zero beforehand it takes other's format, as
  // upstream does. The result prints in canonical form.
  void Add(const Quantity& other);
  void Sub(const Quantity& other);
  void Neg();

  // Equal values (formats may differ), like upstream's Equal.
  friend bool operator==(const Quantity& a, const Quantity& b) { return a.Compare(b) == 0; }

 private:
  // Value is mantissa_ * 10^exponent_ while digits_ is empty; otherwise it is
  // (negative_ ? -1 : 1) * digits_ * 10^exponent_, digits_ being the decimal magnitude
  // without leading or trailing zeros. Every value is a whole number of nano units
  // (exponent_ >= -9), and the small form is used whenever the value fits it.
  int64_t mantissa_ = 0;
  int32_t exponent_ = 0;
  bool negative_ = false;
  Format format_ = Format::kDecimalSI;
  std::string digits_;
  // The parsed text when upstream would print it verbatim, else empty.
  std::string text_;

  friend struct QuantityAccess;
};

// Prints String().
std::ostream& operator<<(std::ostream& os, const Quantity& q);

// Parse(text)->String(): the quantity string the API server writes for `text`.
absl::StatusOr<std::string> CanonicalString(std::string_view text);

}  // namespace kslice::resource

#endif  // KSLICE_API_RESOURCE_QUANTITY_H_
