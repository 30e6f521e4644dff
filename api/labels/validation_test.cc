#include "api/labels/validation.h"

#include <string>

#include "gtest/gtest.h"

namespace kslice::labels {
namespace {

struct Case {
  std::string input;
  bool valid;
};

class QualifiedNameTest : public testing::TestWithParam<Case> {};

TEST_P(QualifiedNameTest, Validates) {
  const Case& c = GetParam();
  EXPECT_EQ(IsQualifiedName(c.input).empty(), c.valid) << "key: " << c.input;
  EXPECT_EQ(ValidateLabelKey(c.input).ok(), c.valid) << "key: " << c.input;
}

INSTANTIATE_TEST_SUITE_P(
    Keys, QualifiedNameTest,
    testing::Values(
        Case{"simple", true}, Case{"now-with-dashes", true}, Case{"1-starts-with-num", true},
        Case{"1234", true}, Case{"simple/simple", true}, Case{"now-with-dashes/simple", true},
        Case{"now-with-dashes/now-with-dashes", true}, Case{"now.with.dots/simple", true},
        Case{"now-with.dashes-and.dots/simple", true}, Case{"1-num.2-num/3-num", true},
        Case{"1234/5678", true}, Case{"1.2.3.4/5678", true}, Case{"Uppercase_Is_OK_123", true},
        Case{"example.com/Uppercase_Is_OK_123", true}, Case{"a.b", true}, Case{"a_b", true},
        Case{"in", true}, Case{"notin", true}, Case{std::string(63, 'a'), true},
        Case{std::string(253, 'a') + "/" + std::string(63, 'b'), true},
        Case{"", false}, Case{" ", false}, Case{"simple/", false}, Case{"/simple", false},
        Case{"a/b/c", false}, Case{"nospecialchars%^=@", false}, Case{"cantendwithadash-", false},
        Case{"-cantstartwithadash", false}, Case{"only/one/slash", false},
        Case{"Example.com/abc", false},  // the prefix must be lower case
        Case{"example_com/abc", false}, Case{"a..b/c", false}, Case{".a/c", false},
        Case{"a./c", false}, Case{"a b", false}, Case{"a\n", false},
        Case{std::string(64, 'a'), false},
        Case{std::string(254, 'a') + "/abc", false},
        Case{std::string(254, 'a'), false}));

class LabelValueTest : public testing::TestWithParam<Case> {};

TEST_P(LabelValueTest, Validates) {
  const Case& c = GetParam();
  EXPECT_EQ(IsValidLabelValue(c.input).empty(), c.valid) << "value: " << c.input;
  EXPECT_EQ(ValidateLabelValue("k", c.input).ok(), c.valid) << "value: " << c.input;
}

INSTANTIATE_TEST_SUITE_P(
    Values, LabelValueTest,
    testing::Values(Case{"", true}, Case{"simple", true}, Case{"now-with-dashes", true},
                    Case{"1-starts-with-num", true}, Case{"end-with-num-1", true},
                    Case{"1234", true}, Case{"a.b_c-d", true}, Case{"UPPER", true},
                    Case{std::string(63, 'a'), true}, Case{"nospecialchars%^=@", false},
                    Case{"Tama-nui-te-rā.is.Māori.sun", false}, Case{"\\backslashes\\are\\bad", false},
                    Case{"-starts-with-dash", false}, Case{"ends-with-dash-", false},
                    Case{".starts.with.dot", false}, Case{"ends.with.dot.", false},
                    Case{"a b", false}, Case{"a/b", false}, Case{std::string(64, 'a'), false}));

TEST(DNS1123SubdomainTest, Validates) {
  EXPECT_TRUE(IsDNS1123Subdomain("a").empty());
  EXPECT_TRUE(IsDNS1123Subdomain("a-b.c0.example.com").empty());
  EXPECT_TRUE(IsDNS1123Subdomain(std::string(253, 'a')).empty());
  EXPECT_FALSE(IsDNS1123Subdomain("").empty());
  EXPECT_FALSE(IsDNS1123Subdomain("A").empty());
  EXPECT_FALSE(IsDNS1123Subdomain("a_b").empty());
  EXPECT_FALSE(IsDNS1123Subdomain("a.").empty());
  EXPECT_FALSE(IsDNS1123Subdomain("-a").empty());
  EXPECT_FALSE(IsDNS1123Subdomain(std::string(254, 'a')).empty());
}

TEST(ValidationTest, ErrorsNameTheProblem) {
  const absl::Status key = ValidateLabelKey(std::string(64, 'a'));
  EXPECT_EQ(key.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(key.message().find("no more than 63 characters"), std::string::npos) << key;
  const absl::Status prefix = ValidateLabelKey("/a");
  EXPECT_NE(prefix.message().find("prefix part must be non-empty"), std::string::npos) << prefix;
  const absl::Status value = ValidateLabelValue("app", "-x");
  EXPECT_NE(value.message().find("\"app\""), std::string::npos) << value;
  EXPECT_NE(value.message().find("must start and end"), std::string::npos) << value;
}

}  // namespace
}  // namespace kslice::labels
