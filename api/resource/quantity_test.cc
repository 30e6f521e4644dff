#include "api/resource/quantity.h"

#include <chrono>
#include <cstdint>
#include <limits>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace kslice::resource {
namespace {

using ::testing::HasSubstr;

constexpr int64_t kMax = std::numeric_limits<int64_t>::max();
constexpr int64_t kMin = std::numeric_limits<int64_t>::min();

constexpr Format kSI = Format::kDecimalSI;
constexpr Format kBin = Format::kBinarySI;
constexpr Format kExp = Format::kDecimalExponent;

Quantity Q(std::string_view s) {
  absl::StatusOr<Quantity> q = Quantity::Parse(s);
  EXPECT_TRUE(q.ok()) << s << ": " << q.status();
  return q.ok() ? *q : Quantity();
}

// Parse(input): what String() prints, the computed canonical form when that differs
// (upstream keeps some inputs verbatim), the format, and Value()/MilliValue().
struct ParseCase {
  const char* input;
  const char* string;
  const char* canonical;  // nullptr: same as string
  Format format;
  int64_t value;
  int64_t milli;
};

// Expected results were checked against upstream's ParseQuantity/String/Value.
const ParseCase kParseCases[] = {
    // Zero in every spelling.
    {"0", "0", nullptr, kSI, 0, 0},
    {"0n", "0", nullptr, kSI, 0, 0},
    {"0m", "0", nullptr, kSI, 0, 0},
    {"0k", "0", nullptr, kSI, 0, 0},
    {"0T", "0", nullptr, kSI, 0, 0},
    {"0Ki", "0", nullptr, kBin, 0, 0},
    {"0Ti", "0", nullptr, kBin, 0, 0},
    {"00", "0", nullptr, kSI, 0, 0},
    {"-0", "0", nullptr, kSI, 0, 0},
    {"+0", "0", nullptr, kSI, 0, 0},
    {"0.0", "0", nullptr, kSI, 0, 0},
    {"0.0Ki", "0", nullptr, kBin, 0, 0},
    {"0e5", "0", nullptr, kExp, 0, 0},
    {"0e999999999999", "0", nullptr, kExp, 0, 0},
    // CPU forms.
    {"500m", "500m", nullptr, kSI, 1, 500},
    {"2", "2", nullptr, kSI, 2, 2000},
    {"1.5", "1500m", nullptr, kSI, 2, 1500},
    {"0.5", "500m", nullptr, kSI, 1, 500},
    {"0.1", "100m", nullptr, kSI, 1, 100},
    {"1000m", "1", nullptr, kSI, 1, 1000},
    {"1500m", "1500m", nullptr, kSI, 2, 1500},
    {"9.01", "9010m", nullptr, kSI, 10, 9010},
    // Memory forms.
    {"64Mi", "64Mi", nullptr, kBin, 67108864, 67108864000},
    {"1G", "1G", nullptr, kSI, 1000000000, 1000000000000},
    {"1Gi", "1Gi", nullptr, kBin, 1073741824, 1073741824000},
    {"128974848", "128974848", nullptr, kSI, 128974848, 128974848000},
    {"129e6", "129e6", nullptr, kExp, 129000000, 129000000000},
    {"123Mi", "123Mi", nullptr, kBin, 128974848, 128974848000},
    {"1024Mi", "1Gi", nullptr, kBin, 1073741824, 1073741824000},
    {"1000M", "1G", nullptr, kSI, 1000000000, 1000000000000},
    {"1536Mi", "1536Mi", nullptr, kBin, 1610612736, 1610612736000},
    {"1.5Gi", "1536Mi", nullptr, kBin, 1610612736, 1610612736000},
    // Binary suffixes.
    {"1Ki", "1Ki", nullptr, kBin, 1024, 1024000},
    {"8Ki", "8Ki", nullptr, kBin, 8192, 8192000},
    {"7Mi", "7Mi", nullptr, kBin, 7340032, 7340032000},
    {"6Gi", "6Gi", nullptr, kBin, 6442450944, 6442450944000},
    {"5Ti", "5Ti", nullptr, kBin, 5497558138880, 5497558138880000},
    {"4Pi", "4Pi", nullptr, kBin, 4503599627370496, 4503599627370496000},
    {"3Ei", "3Ei", nullptr, kBin, 3458764513820540928, kMax},
    {"100Ti", "100Ti", nullptr, kBin, 109951162777600, 109951162777600000},
    {"1025Ki", "1025Ki", nullptr, kBin, 1049600, 1049600000},
    {"2049Ki", "2049Ki", nullptr, kBin, 2098176, 2098176000},
    // Decimal suffixes.
    {"5n", "5n", nullptr, kSI, 1, 1},
    {"4u", "4u", nullptr, kSI, 1, 1},
    {"3m", "3m", nullptr, kSI, 1, 3},
    {"8k", "8k", nullptr, kSI, 8000, 8000000},
    {"50k", "50k", nullptr, kSI, 50000, 50000000},
    {"7M", "7M", nullptr, kSI, 7000000, 7000000000},
    {"6G", "6G", nullptr, kSI, 6000000000, 6000000000000},
    {"40T", "40T", nullptr, kSI, 40000000000000, 40000000000000000},
    {"2P", "2P", nullptr, kSI, 2000000000000000, 2000000000000000000},
    {"1E", "1E", nullptr, kSI, 1000000000000000000, kMax},
    {"12E", "12E", nullptr, kSI, kMax, kMax},
    // Exponents.
    {"1e3", "1e3", nullptr, kExp, 1000, 1000000},
    {"1E3", "1E3", "1e3", kExp, 1000, 1000000},
    {"1e+3", "1e+3", "1e3", kExp, 1000, 1000000},
    {"1e03", "1e03", "1e3", kExp, 1000, 1000000},
    {"1E-3", "1E-3", "1e-3", kExp, 1, 1},
    {"12e-3", "12e-3", nullptr, kExp, 1, 12},
    {"12e6", "12e6", nullptr, kExp, 12000000, 12000000000},
    {"1e13", "10e12", nullptr, kExp, 10000000000000, 10000000000000000},
    {"1e14", "100e12", nullptr, kExp, 100000000000000, 100000000000000000},
    {"1E18", "1E18", "1e18", kExp, 1000000000000000000, kMax},
    {"1.2e3", "1200", nullptr, kExp, 1200, 1200000},
    {"1.3E+6", "1300e3", nullptr, kExp, 1300000, 1300000000},
    {"1.40e9", "1400e6", nullptr, kExp, 1400000000, 1400000000000},
    {"0.5e0", "500e-3", nullptr, kExp, 1, 500},
    {"0.5e-1", "50e-3", nullptr, kExp, 1, 50},
    {"0.5e-2", "5e-3", nullptr, kExp, 1, 5},
    {"1e100", "10e99", nullptr, kExp, kMax, kMax},
    // Fractions.
    {"0.001", "1m", nullptr, kSI, 1, 1},
    {"0.0005k", "500m", nullptr, kSI, 1, 500},
    {"0.00500", "5m", nullptr, kSI, 1, 5},
    {"0.50000", "500m", nullptr, kSI, 1, 500},
    {"8.1k", "8100", nullptr, kSI, 8100, 8100000},
    {"40.1T", "40100G", nullptr, kSI, 40100000000000, 40100000000000000},
    {"2.5P", "2500T", nullptr, kSI, 2500000000000000, 2500000000000000000},
    {"1.01E", "1010P", nullptr, kSI, 1010000000000000000, kMax},
    {".001", "1m", nullptr, kSI, 1, 1},
    {".0001k", "100m", nullptr, kSI, 1, 100},
    // Rounding up to whole nano units.
    {"3.001n", "4n", nullptr, kSI, 1, 1},
    {"1.1E-9", "2e-9", nullptr, kExp, 1, 1},
    {"0.0000000001", "1n", nullptr, kSI, 1, 1},
    {"0.0000000005", "1n", nullptr, kSI, 1, 1},
    {"0.5e-9", "1e-9", nullptr, kExp, 1, 1},
    {"0.9n", "1n", nullptr, kSI, 1, 1},
    {"0.00000012345", "124n", nullptr, kSI, 1, 1},
    {"0.00000012354", "124n", nullptr, kSI, 1, 1},
    {"1e-999999999", "1e-9", nullptr, kExp, 1, 1},
    // Fractional binary values: exact integers stay BinarySI, others print as
    // DecimalSI, and values below 1 switch format.
    {"100.035Ki", "102435840m", nullptr, kBin, 102436, 102435840},
    {"0.5Mi", "512Ki", nullptr, kBin, 524288, 524288000},
    {"0.05Gi", "53687091200m", nullptr, kBin, 53687092, 53687091200},
    {"1.1Ki", "1126400m", nullptr, kBin, 1127, 1126400},
    {".001Ki", "1024m", nullptr, kBin, 2, 1024},
    {".000001Ki", "1024u", nullptr, kSI, 1, 2},
    {".000000001Ki", "1024n", nullptr, kSI, 1, 1},
    {"0.000000000001Ki", "2n", nullptr, kSI, 1, 1},
    // BinarySI caps at 2^63-1.
    {"9Ei", "9223372036854775807", nullptr, kBin, kMax, kMax},
    {"9223372036854775807Ki", "9223372036854775807", nullptr, kBin, kMax, kMax},
    {"-9Ei", "-9223372036854775807", nullptr, kBin, -kMax, kMin},
    // Inputs upstream considers canonical already come back verbatim.
    {"+1", "+1", "1", kSI, 1, 1000},
    {"01", "01", "1", kSI, 1, 1000},
    {"1.", "1.", "1", kSI, 1, 1000},
    {"1.G", "1.G", "1G", kSI, 1000000000, 1000000000000},
    {"1.Ki", "1.Ki", "1Ki", kBin, 1024, 1024000},
    {"+1Ki", "+1Ki", "1Ki", kBin, 1024, 1024000},
    {"1.500", "1.500", "1500m", kSI, 2, 1500},
    {"1.001", "1.001", "1001m", kSI, 2, 1001},
    {"100.035k", "100.035k", "100035", kSI, 100035, 100035000},
    {"5.444T", "5.444T", "5444G", kSI, 5444000000000, 5444000000000000},
    {"7.123456M", "7.123456M", "7123456", kSI, 7123456, 7123456000},
    // Lenient spellings of zero.
    {".", "0", nullptr, kSI, 0, 0},
    {"+", "0", nullptr, kSI, 0, 0},
    {"-", "0", nullptr, kSI, 0, 0},
    {"Mi", "0", nullptr, kBin, 0, 0},
    {"Ti", "0", nullptr, kBin, 0, 0},
    {"E", "0", nullptr, kSI, 0, 0},
    {"e5", "0", nullptr, kExp, 0, 0},
    {".e-9", "0", nullptr, kExp, 0, 0},
    // Signs.
    {"-1.5", "-1500m", nullptr, kSI, -2, -1500},
    {"-500m", "-500m", nullptr, kSI, -1, -500},
    {"-0.5", "-500m", nullptr, kSI, -1, -500},
    {"-1Ki", "-1Ki", nullptr, kBin, -1024, -1024000},
    {"-1e-3", "-1e-3", nullptr, kExp, -1, -1},
    {"-0.0001Ki", "-102400u", nullptr, kSI, -1, -103},
    {"-.5n", "-1n", nullptr, kSI, -1, -1},
    // Around 2^63 and beyond int64.
    {"999999999999999999", "999999999999999999", nullptr, kSI, 999999999999999999, kMax},
    {"999999999999999999.0", "999999999999999999", nullptr, kSI, 999999999999999999, kMax},
    {"999999999999999999.1", "999999999999999999100m", nullptr, kSI, 1000000000000000000,
     kMax},
    {"9999999999999999999", "9999999999999999999", nullptr, kSI, kMax, kMax},
    {"1000000000000000000", "1E", nullptr, kSI, 1000000000000000000, kMax},
    {"1000000000000000000.1", "1000000000000000000100m", nullptr, kSI, 1000000000000000001,
     kMax},
    {"1.000000000000000001E", "1000000000000000001", nullptr, kSI, 1000000000000000001, kMax},
    {"10E", "10E", nullptr, kSI, kMax, kMax},
    {"10000000000000000000", "10E", nullptr, kSI, kMax, kMax},
    {"-10.0000000000000000001E", "-10000000000000000000100m", nullptr, kSI, kMin, kMin},
    {"9223372036854775807", "9223372036854775807", nullptr, kSI, kMax, kMax},
    {"9223372036854775807.1", "9223372036854775807100m", nullptr, kSI, kMax, kMax},
    {"9223372036854775808", "9223372036854775808", nullptr, kSI, kMax, kMax},
    {"9223372036854775808000m", "9223372036854775808", nullptr, kSI, kMax, kMax},
    {"-9223372036854775808", "-9223372036854775808", nullptr, kSI, kMin, kMin},
    {"-9223372036854775809", "-9223372036854775809", nullptr, kSI, kMin, kMin},
    {"-9223372036854775808.0", "-9223372036854775808", nullptr, kSI, kMin, kMin},
    {"-9223372036854775807000m", "-9223372036854775807", nullptr, kSI, -kMax, kMin},
};

TEST(QuantityParse, Table) {
  for (const ParseCase& c : kParseCases) {
    SCOPED_TRACE(c.input);
    absl::StatusOr<Quantity> q = Quantity::Parse(c.input);
    ASSERT_TRUE(q.ok()) << q.status();
    EXPECT_EQ(q->String(), c.string);
    EXPECT_EQ(q->Canonical(), c.canonical != nullptr ? c.canonical : c.string);
    EXPECT_EQ(q->format(), c.format) << FormatName(q->format());
    EXPECT_EQ(q->Value(), c.value);
    EXPECT_EQ(q->MilliValue(), c.milli);
    EXPECT_EQ(CanonicalString(c.input).value_or("<error>"), c.string);
  }
}

// Properties every accepted input has: the canonical form parses back to an equal
// value and is its own canonical form, verbatim text parses to the same value,
// and the negated input is the negated value.
TEST(QuantityParse, RoundTripAndNegation) {
  for (const ParseCase& c : kParseCases) {
    SCOPED_TRACE(c.input);
    const Quantity q = Q(c.input);
    const std::string canonical = q.Canonical();
    const Quantity again = Q(canonical);
    EXPECT_EQ(again.Compare(q), 0);
    EXPECT_EQ(again.String(), canonical);
    EXPECT_EQ(Q(q.String()).Compare(q), 0);

    std::string_view unsigned_input = c.input;
    if (!unsigned_input.empty() && (unsigned_input[0] == '+' || unsigned_input[0] == '-')) {
      continue;
    }
    const Quantity neg = Q(std::string("-") + c.input);
    EXPECT_EQ(neg.format(), q.format());
    EXPECT_EQ(neg.Sign(), -q.Sign());
    Quantity expected = q;
    expected.Neg();
    EXPECT_EQ(neg.Compare(expected), 0);
    EXPECT_EQ(neg.Canonical(), q.IsZero() ? "0" : "-" + canonical);
    const Quantity plus = Q(std::string("+") + c.input);
    EXPECT_EQ(plus.Compare(q), 0);
    EXPECT_EQ(plus.format(), q.format());
  }
}

struct ErrorCase {
  const char* input;
  const char* message;  // a substring of upstream's message
};

constexpr char kFormatError[] = "quantities must match the regular expression";
constexpr char kSuffixError[] = "unable to parse quantity's suffix";
constexpr char kNumericError[] = "unable to parse numeric part of quantity";

const ErrorCase kErrorCases[] = {
    {"", kFormatError},
    {" 1", kFormatError},
    {"1 ", kFormatError},
    {"1.2.3", kFormatError},
    {"1.1.M", kFormatError},
    {"1+1.0M", kFormatError},
    {"1Mb", kFormatError},
    {"0.1am", kFormatError},
    {"aoeu", kFormatError},
    {"Non-Numeric", kFormatError},
    {"1e3e", kFormatError},
    {"0x10", kFormatError},
    {"1_000", kFormatError},
    {"1,5", kFormatError},
    {"1KI", kFormatError},
    {"\xef\xbc\x91", kFormatError},  // fullwidth digit one
    {"--1", kSuffixError},
    {"+-1", kSuffixError},
    {"1i", kSuffixError},
    {".5i", kSuffixError},
    {"0.1mi", kSuffixError},
    {"-3.01i", kSuffixError},
    {"-3.01e-", kSuffixError},
    {"1e", kSuffixError},
    {"e", kSuffixError},
    {"1e+", kSuffixError},
    {"1ee3", kSuffixError},
    {"1Ki5", kSuffixError},
    {"1k-3", kSuffixError},
    {"1ki", kSuffixError},
    {"1kk", kSuffixError},
    {"1e99999999999999999999", kSuffixError},  // beyond int64
    {"Pi", kNumericError},
    {"Ei", kNumericError},
    {"-Ei", kNumericError},
    {".Ei", kNumericError},
    {"e-10", kNumericError},
    {".e-10", kNumericError},
    // Beyond what upstream can compute with in bounded time.
    {"1e1000", "quantity too large"},
    {"1e999999999", "quantity too large"},
    {"-12e9223372036854775807", "quantity too large"},
};

TEST(QuantityParse, Errors) {
  for (const ErrorCase& c : kErrorCases) {
    SCOPED_TRACE(c.input);
    absl::StatusOr<Quantity> q = Quantity::Parse(c.input);
    ASSERT_FALSE(q.ok()) << q->String();
    EXPECT_EQ(q.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(std::string(q.status().message()), HasSubstr(c.message));
    EXPECT_FALSE(CanonicalString(c.input).ok());
  }
  // An embedded NUL is not the end of the input.
  EXPECT_FALSE(Quantity::Parse(std::string_view("1\0", 2)).ok());
  EXPECT_EQ(Quantity::Parse("1e-3").ok(), true);
  EXPECT_THAT(std::string(Quantity::Parse("1.2.3").status().message()),
              HasSubstr("'^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'"));
}

TEST(QuantityParse, MagnitudeLimit) {
  EXPECT_TRUE(Quantity::Parse("1e999").ok());
  EXPECT_TRUE(Quantity::Parse("9.99e999").ok());
  EXPECT_FALSE(Quantity::Parse("10e999").ok());
  EXPECT_TRUE(Quantity::Parse(std::string(1000, '9')).ok());
  EXPECT_FALSE(Quantity::Parse("1" + std::string(1000, '0')).ok());
  EXPECT_TRUE(Quantity::Parse("1" + std::string(1000, '0') + "e-1").ok());
  // BinarySI values are capped rather than rejected, as upstream does.
  EXPECT_EQ(Q("1" + std::string(2000, '0') + "Ki").String(), "9223372036854775807");
  EXPECT_EQ(Q("1e999").String(), "1e999");
  EXPECT_EQ(Q("-1e999").Canonical(), "-1e999");
}

// Upstream's DecimalSI output has no suffix for exponents above 18 and so changes the
// value ("1000E" prints as "1"); this keeps the value with a longer mantissa.
TEST(QuantityString, DecimalSIAboveExa) {
  EXPECT_EQ(Q("1000E").String(), "1000E");
  EXPECT_EQ(Q("1000000000000000000000").String(), "1000E");
  EXPECT_EQ(Q("-1e21").Canonical(), "-1e21");
  Quantity q = Q("0");
  q.Add(Q("1e21"));  // takes DecimalExponent from the operand
  EXPECT_EQ(q.String(), "1e21");
  Quantity si = Q("1");
  si.Add(Q("1e24"));
  EXPECT_EQ(si.String(), "1000000000000000000000001");
  si.Sub(Q("1"));
  EXPECT_EQ(si.String(), "1000000E");
}

TEST(QuantityString, DefaultIsZero) {
  Quantity q;
  EXPECT_EQ(q.String(), "0");
  EXPECT_TRUE(q.IsZero());
  EXPECT_EQ(q.Sign(), 0);
  EXPECT_EQ(q.Value(), 0);
  EXPECT_EQ(q.MilliValue(), 0);
  EXPECT_EQ(q.format(), kSI);
  std::ostringstream os;
  os << Q("1.5Gi");
  EXPECT_EQ(os.str(), "1536Mi");
}

struct IntCase {
  int64_t value;
  Format format;
  const char* expect;
};

TEST(QuantityString, FromInt) {
  const IntCase cases[] = {
      {1, kSI, "1"},
      {1000, kSI, "1k"},
      {1234000, kSI, "1234k"},
      {1024, kBin, "1Ki"},
      {1000, kBin, "1k"},  // below 1024 prints as DecimalSI
      {1023, kBin, "1023"},
      {-1024, kBin, "-1Ki"},
      {1048576, kBin, "1Mi"},
      {1536, kBin, "1536"},
      {3 * 1024 * 1024 + 512 * 1024, kBin, "3584Ki"},
      {1000000, kExp, "1e6"},
      {1200, kExp, "1200"},
      {12000, kExp, "12e3"},
      {0, kBin, "0"},
      {kMax, kSI, "9223372036854775807"},
      {kMax, kBin, "9223372036854775807"},
      {kMin, kSI, "-9223372036854775808"},
      {kMin, kBin, "-9223372036854775808"},  // not -8Ei, which would parse capped
      {int64_t{1} << 62, kBin, "4Ei"},
      {1000000000000000000, kSI, "1E"},
      {-1000000000000000000, kExp, "-1e18"},
  };
  for (const IntCase& c : cases) {
    SCOPED_TRACE(c.value);
    const Quantity q = Quantity::FromInt(c.value, c.format);
    EXPECT_EQ(q.String(), c.expect);
    EXPECT_EQ(q.format(), c.format);
    EXPECT_EQ(q.Value(), c.value);
    EXPECT_EQ(Q(q.String()).Value(), c.value);
  }
}

TEST(QuantityString, FromMilli) {
  const IntCase cases[] = {
      {1, kSI, "1m"},
      {1000, kSI, "1"},
      {1234000, kSI, "1234"},
      {1500, kSI, "1500m"},
      {-1500, kSI, "-1500m"},
      {1024, kBin, "1024m"},  // fractional BinarySI prints as DecimalSI
      {1024 * 1024, kBin, "1048576m"},
      {1024 * 1000, kBin, "1Ki"},
      {1000000, kExp, "1e3"},
      {1, kExp, "1e-3"},
      {0, kSI, "0"},
      {kMax, kSI, "9223372036854775807m"},
      {kMin, kSI, "-9223372036854775808m"},
  };
  for (const IntCase& c : cases) {
    SCOPED_TRACE(c.value);
    const Quantity q = Quantity::FromMilli(c.value, c.format);
    EXPECT_EQ(q.String(), c.expect);
    EXPECT_EQ(q.MilliValue(), c.value);
    EXPECT_EQ(Q(q.String()).MilliValue(), c.value);
  }
}

struct CompareCase {
  const char* a;
  const char* b;
  int expect;
};

TEST(QuantityCompare, Table) {
  const CompareCase cases[] = {
      {"0", "0", 0},
      {"0", "0Ki", 0},
      {"0", "-0", 0},
      {"100m", "50m", 1},
      {"50m", "100m", -1},
      {"10000T", "100Gi", 1},
      {"1", "1000m", 0},
      {"1Ki", "1024", 0},
      {"1k", "1Ki", -1},
      {"1G", "1Gi", -1},
      {"1e3", "1k", 0},
      {"1E3", "1e3", 0},
      {"1.5", "1500m", 0},
      {"500m", "0.5", 0},
      {"-1", "1", -1},
      {"-1", "-2", 1},
      {"-1n", "0", -1},
      {"1n", "0.0000000001", 0},
      {"1n", "0", 1},
      {"9.01", "9.010", 0},
      {"9.009", "9.01", -1},
      {"129e6", "123Mi", 1},
      {"128974848", "123Mi", 0},
      {"9223372036854775807", "9223372036854775808", -1},
      {"9223372036854775808", "9223372036854775807.1", 1},
      {"-9223372036854775808", "-9223372036854775809", 1},
      {"9Ei", "9223372036854775807", 0},
      {"10E", "9999999999999999999", 1},
      {"1e21", "1000E", 0},
      {"1e30", "1e29", 1},
      {"-1e30", "1n", -1},
      {"1e30", "1e30", 0},
      {"1e999", "9.99e999", -1},
      {"1000000000000000000.1", "1E", 1},
      {"1000000000000000000.1", "1000000000000000000100m", 0},
      {"12345678901234567890123", "12345678901234567890124", -1},
      {"-12345678901234567890123", "-12345678901234567890124", 1},
      {"0.000000001", "1e-9", 0},
      {"1e18", "1n", 1},
  };
  for (const CompareCase& c : cases) {
    SCOPED_TRACE(std::string(c.a) + " vs " + c.b);
    const Quantity a = Q(c.a);
    const Quantity b = Q(c.b);
    EXPECT_EQ(a.Compare(b), c.expect);
    EXPECT_EQ(b.Compare(a), -c.expect);
    EXPECT_EQ(a == b, c.expect == 0);
  }
}

TEST(QuantityCompare, ScaledInt64Extremes) {
  // Values at the edges of the int64 form, compared across exponents.
  const Quantity max = Quantity::FromInt(kMax, kSI);
  const Quantity min = Quantity::FromInt(kMin, kSI);
  EXPECT_EQ(max.Compare(Q("100m")), 1);
  EXPECT_EQ(max.Compare(Q("9223372036854775807000m")), 0);
  EXPECT_EQ(min.Compare(Q("-9223372036854775808000m")), 0);
  EXPECT_EQ(min.Compare(Q("-1")), -1);
  EXPECT_EQ(Quantity::FromMilli(kMax, kSI).Compare(Q("9223372036854775.807")), 0);
  EXPECT_EQ(Quantity::FromMilli(kMax, kSI).Compare(Q("9223372036854775.808")), -1);
  EXPECT_EQ(Q("1e18").Compare(Q("999999999999999999999999999n")), 1);
  EXPECT_EQ(Q("1e18").Compare(Q("1000000000000000000000000000n")), 0);
  EXPECT_EQ(Q("1e18").Compare(Q("1000000000000000000000000001n")), -1);
}

TEST(QuantityValue, RoundsAwayFromZeroAndSaturates) {
  const struct {
    const char* input;
    int64_t value;
    int64_t milli;
  } cases[] = {
      {"1n", 1, 1},
      {"-1n", -1, -1},
      {"999m", 1, 999},
      {"1001m", 2, 1001},
      {"-1001m", -2, -1001},
      {"1500u", 1, 2},
      {"-1500u", -1, -2},
      {"-795.5932934113", -796, -795594},
      {"9223372036854775.807", 9223372036854776, kMax},
      {"9223372036854775.808", 9223372036854776, kMax},
      {"-9223372036854775.808", -9223372036854776, kMin},
      {"-9223372036854775.809", -9223372036854776, kMin},
      {"9223372036854775807", kMax, kMax},
      {"9223372036854775806.5", kMax, kMax},
      {"9223372036854775807.5", kMax, kMax},
      {"-9223372036854775808", kMin, kMin},
      {"-9223372036854775807.5", kMin, kMin},
      {"1e19", kMax, kMax},
      {"-1e19", kMin, kMin},
      {"1e999", kMax, kMax},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.input);
    const Quantity q = Q(c.input);
    EXPECT_EQ(q.Value(), c.value);
    EXPECT_EQ(q.MilliValue(), c.milli);
  }
}

struct ArithCase {
  const char* a;
  const char* b;
  const char* sum;
  Format sum_format;
  const char* difference;
  Format difference_format;
};

TEST(QuantityArithmetic, AddSub) {
  const ArithCase cases[] = {
      {"10", "1e1", "20", kSI, "0", kSI},
      {"10", "1Ki", "1034", kSI, "-1014", kSI},
      {"1Ki", "10", "1034", kBin, "1014", kBin},
      {"0", "50", "50", kSI, "-50", kSI},
      {"50", "0", "50", kSI, "50", kSI},
      {"0", "0", "0", kSI, "0", kSI},
      {"0", "1Gi", "1Gi", kBin, "-1Gi", kBin},
      {"0Ki", "1e3", "1e3", kExp, "-1e3", kExp},
      {"500m", "500m", "1", kSI, "0", kSI},
      {"1.5", "1n", "1500000001n", kSI, "1499999999n", kSI},
      {"1Gi", "1Gi", "2Gi", kBin, "0", kBin},
      {"1Gi", "512Mi", "1536Mi", kBin, "512Mi", kBin},
      {"1Mi", "1", "1048577", kBin, "1048575", kBin},
      {"1Mi", "1m", "1048576001m", kBin, "1048575999m", kBin},
      {"9223372036854775807", "1", "9223372036854775808", kSI, "9223372036854775806", kSI},
      {"-9223372036854775807", "1", "-9223372036854775806", kSI, "-9223372036854775808", kSI},
      {"-9223372036854775808", "-1", "-9223372036854775809", kSI, "-9223372036854775807", kSI},
      {"8Ei", "8Ei", "18446744073709551614", kBin, "0", kBin},  // parsed 8Ei is capped
      {"4Ei", "3Ei", "7Ei", kBin, "1Ei", kBin},
      {"1e30", "1n", "1000000000000000000000000000000000000001e-9", kExp,
       "999999999999999999999999999999999999999e-9", kExp},
      {"1e30", "-1e30", "0", kExp, "2e30", kExp},
      {"10E", "-10E", "0", kSI, "20E", kSI},
      {"100m", "1E", "1000000000000000000100m", kSI, "-999999999999999999900m", kSI},
  };
  for (const ArithCase& c : cases) {
    SCOPED_TRACE(std::string(c.a) + " and " + c.b);
    Quantity sum = Q(c.a);
    sum.Add(Q(c.b));
    EXPECT_EQ(sum.String(), c.sum);
    EXPECT_EQ(sum.format(), c.sum_format);
    EXPECT_EQ(sum.Compare(Q(c.sum)), 0);
    Quantity difference = Q(c.a);
    difference.Sub(Q(c.b));
    EXPECT_EQ(difference.String(), c.difference);
    EXPECT_EQ(difference.format(), c.difference_format);
    // Undo both.
    sum.Sub(Q(c.b));
    EXPECT_EQ(sum.Compare(Q(c.a)), 0);
    difference.Add(Q(c.b));
    EXPECT_EQ(difference.Compare(Q(c.a)), 0);
  }
}

TEST(QuantityArithmetic, ZeroOperandsKeepSuffix) {
  for (const char* s : {"100m", "1Gi", "12e6"}) {
    SCOPED_TRACE(s);
    const Quantity value = Q(s);
    Quantity a = value;
    a.Add(Q("0"));
    EXPECT_EQ(a.String(), s);
    Quantity b = Q("0");
    b.Add(value);
    EXPECT_EQ(b.String(), s);
    Quantity c = value;
    c.Sub(Q("0"));
    EXPECT_EQ(c.String(), s);
    Quantity d = Q("0");
    d.Sub(value);
    EXPECT_EQ(d.String(), std::string("-") + s);
  }
}

TEST(QuantityArithmetic, ArithmeticDropsVerbatimText) {
  Quantity q = Q("1.500");
  EXPECT_EQ(q.String(), "1.500");
  q.Add(Quantity());
  EXPECT_EQ(q.String(), "1500m");
  Quantity e = Q("1E3");
  e.Neg();
  EXPECT_EQ(e.String(), "-1e3");
  e.Neg();
  EXPECT_EQ(e.String(), "1e3");
}

TEST(QuantityArithmetic, NegIsExact) {
  for (const char* s : {"1", "-1", "1.5Gi", "9223372036854775808", "-9223372036854775808", "1e999", "0"}) {
    SCOPED_TRACE(s);
    Quantity q = Q(s);
    q.Neg();
    EXPECT_EQ(q.Sign(), -Q(s).Sign());
    q.Neg();
    EXPECT_EQ(q.Compare(Q(s)), 0);
  }
  Quantity min = Quantity::FromInt(kMin, kSI);
  min.Neg();
  EXPECT_EQ(min.String(), "9223372036854775808");
  EXPECT_EQ(min.Value(), kMax);
}

// Sums may exceed the BinarySI cap that parsing applies, as upstream's do.
TEST(QuantityArithmetic, BinarySumsAboveCap) {
  Quantity q = Q("4Ei");
  q.Add(Q("4Ei"));
  EXPECT_EQ(q.String(), "8Ei");
  EXPECT_EQ(q.Compare(Q("9223372036854775808")), 0);
  EXPECT_EQ(Q("8Ei").String(), "9223372036854775807");
  q.Neg();
  EXPECT_EQ(q.String(), "-9223372036854775808");  // the int64 form, see FromInt
  q.Add(q);
  EXPECT_EQ(q.String(), "-16Ei");
}

TEST(QuantityArithmetic, RandomAddSubCancels) {
  std::mt19937_64 rng(42);
  for (int scale = -9; scale <= 24; scale += 3) {
    Quantity total;
    std::vector<Quantity> parts;
    for (int i = 0; i < 60; ++i) {
      const int64_t v = static_cast<int64_t>(rng() >> (rng() % 64));
      std::string s = std::to_string(v) + "e" + std::to_string(scale - static_cast<int>(rng() % 12));
      parts.push_back(Q(s));
      total.Add(parts.back());
    }
    for (const Quantity& p : parts) total.Sub(p);
    EXPECT_TRUE(total.IsZero()) << total.String();
  }
}

// Inputs far longer than any real quantity are handled in linear time.
TEST(QuantityRobustness, LongInputs) {
  const std::string zeros(1 << 20, '0');
  const auto start = std::chrono::steady_clock::now();
  EXPECT_EQ(Q("0." + zeros + "1").String(), "1n");
  EXPECT_EQ(Q("0." + zeros + "1Ki").String(), "1n");
  EXPECT_EQ(Q("-." + zeros + "5e-9").String(), "-1e-9");
  EXPECT_EQ(Q("1." + std::string(1 << 20, '7')).String(), "1777777778n");
  EXPECT_EQ(Q("1." + std::string(1 << 20, '1') + "Ki").String(), "1137777777778n");
  EXPECT_EQ(Q(zeros).String(), "0");
  EXPECT_EQ(Q(zeros + "1").Canonical(), "1");  // String() keeps the input, like upstream
  EXPECT_EQ(Q(zeros + "1").Value(), 1);
  EXPECT_EQ(Q(std::string(1 << 20, '1') + "e-1048570").String(), "111111111111112e-9");
  EXPECT_FALSE(Quantity::Parse("1" + zeros).ok());
  EXPECT_FALSE(Quantity::Parse(std::string(1 << 20, '.')).ok());
  EXPECT_EQ(Q("123.456e" + zeros + "3").Canonical(), "123456");
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(20));
}

// Random strings over the quantity alphabet never crash, and whatever parses has a
// canonical form that parses back to the same value and format-independent sign.
TEST(QuantityRobustness, RandomInputs) {
  static constexpr char kAlphabet[] = "0123456789.+-eEinumkKMGTP i";
  std::mt19937_64 rng(7);
  int accepted = 0;
  for (int i = 0; i < 100000; ++i) {
    std::string s(rng() % 9, ' ');
    for (char& c : s) c = kAlphabet[rng() % (sizeof(kAlphabet) - 1)];
    absl::StatusOr<Quantity> q = Quantity::Parse(s);
    if (!q.ok()) continue;
    ++accepted;
    const std::string canonical = q->Canonical();
    absl::StatusOr<Quantity> again = Quantity::Parse(canonical);
    ASSERT_TRUE(again.ok()) << s << " -> " << canonical;
    EXPECT_EQ(again->Compare(*q), 0) << s << " -> " << canonical;
    EXPECT_EQ(again->Canonical(), canonical) << s;
    EXPECT_EQ(again->Sign(), q->Sign()) << s;
  }
  EXPECT_GT(accepted, 1000);
}

TEST(QuantityFormat, Names) {
  EXPECT_EQ(FormatName(kExp), "DecimalExponent");
  EXPECT_EQ(FormatName(kBin), "BinarySI");
  EXPECT_EQ(FormatName(kSI), "DecimalSI");
}

}  // namespace
}  // namespace kslice::resource
