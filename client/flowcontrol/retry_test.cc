#include "client/flowcontrol/retry.h"

#include "client/flowcontrol/backoff.h"
#include "client/flowcontrol/clock.h"
#include "gtest/gtest.h"

namespace kslice::client::flowcontrol {
namespace {

using absl::Seconds;

TEST(RequestRetryTest, RetriesOnlyWithRetryAfter) {
  struct Case {
    int code;
    const char* retry_after;
    std::optional<absl::Duration> want;
  };
  const Case cases[] = {
      {429, "3", Seconds(3)},
      {500, "1", Seconds(1)},
      {503, "7", Seconds(7)},
      {504, " 2 ", Seconds(2)},
      {599, "1", Seconds(1)},
      {429, "", std::nullopt},
      {503, "", std::nullopt},
      {503, "soon", std::nullopt},
      {503, "Wed, 21 Oct 2015 07:28:00 GMT", std::nullopt},
      {404, "5", std::nullopt},
      {409, "5", std::nullopt},
      {200, "5", std::nullopt},
      {503, "-4", absl::ZeroDuration()},
      {503, "0", absl::ZeroDuration()},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(testing::Message() << c.code << " Retry-After: " << c.retry_after);
    RequestRetry retry;
    EXPECT_EQ(retry.OnResponse(c.code, c.retry_after), c.want);
  }
}

TEST(RequestRetryTest, AnyVerbIsRetriedOnRetryAfter) {
  for (const char* verb : {"GET", "POST", "PUT", "PATCH", "DELETE"}) {
    RequestRetry retry(RequestKind::kRequest, verb);
    EXPECT_EQ(retry.OnResponse(503, "1"), Seconds(1)) << verb;
  }
}

TEST(RequestRetryTest, NonReplayableBodyIsNeverRetried) {
  RequestRetry retry(RequestKind::kRequest, "POST", 10, /*body_replayable=*/false);
  EXPECT_EQ(retry.OnResponse(429, "1"), std::nullopt);
  EXPECT_EQ(retry.OnTransportError(TransportError::kProbableEof), std::nullopt);
}

TEST(RequestRetryTest, MaxRetries) {
  RequestRetry retry;
  for (int i = 0; i < kDefaultMaxRetries; ++i) {
    ASSERT_EQ(retry.OnResponse(429, "1"), Seconds(1)) << i;
  }
  EXPECT_EQ(retry.OnResponse(429, "1"), std::nullopt);
  EXPECT_EQ(retry.attempts(), 11);

  RequestRetry none(RequestKind::kRequest, "GET", 0);
  EXPECT_EQ(none.OnResponse(429, "1"), std::nullopt);
  RequestRetry negative(RequestKind::kRequest, "GET", -3);
  EXPECT_EQ(negative.OnResponse(429, "1"), std::nullopt);
}

TEST(RequestRetryTest, TransportErrors) {
  using E = TransportError;
  using K = RequestKind;
  struct Case {
    K kind;
    const char* verb;
    E error;
    bool retry;
  };
  const Case cases[] = {
      {K::kRequest, "GET", E::kConnectionReset, true},
      {K::kRequest, "get", E::kProbableEof, true},
      {K::kRequest, "GET", E::kHttp2ConnectionLost, true},
      {K::kRequest, "GET", E::kTimeout, false},
      {K::kRequest, "GET", E::kOther, false},
      {K::kRequest, "POST", E::kConnectionReset, false},
      {K::kRequest, "PUT", E::kProbableEof, false},
      {K::kRequest, "DELETE", E::kHttp2ConnectionLost, false},
      {K::kWatch, "GET", E::kProbableEof, true},
      {K::kWatch, "GET", E::kTimeout, true},
      {K::kWatch, "GET", E::kConnectionReset, false},
      {K::kWatch, "GET", E::kOther, false},
      {K::kStream, "GET", E::kProbableEof, false},
      {K::kStream, "GET", E::kConnectionReset, false},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(testing::Message()
                 << static_cast<int>(c.kind) << " " << c.verb << " " << static_cast<int>(c.error));
    EXPECT_EQ(RequestRetry::IsRetryableTransportError(c.kind, c.verb, c.error), c.retry);
    RequestRetry retry(c.kind, c.verb);
    // A retried transport error waits 1 s (client-go's synthetic Retry-After: 1).
    EXPECT_EQ(retry.OnTransportError(c.error),
              c.retry ? std::optional<absl::Duration>(Seconds(1)) : std::nullopt);
    EXPECT_EQ(retry.attempts(), 1);
  }
}

TEST(RequestRetryTest, TransportErrorsCountTowardsTheLimit) {
  RequestRetry retry(RequestKind::kRequest, "GET", 2);
  EXPECT_TRUE(retry.OnTransportError(TransportError::kProbableEof).has_value());
  EXPECT_TRUE(retry.OnResponse(503, "1").has_value());
  EXPECT_FALSE(retry.OnTransportError(TransportError::kProbableEof).has_value());
}

TEST(RequestRetryTest, BackoffTakesTheLonger) {
  FakeClock clock;
  BackoffOptions o;
  o.jitter = 0;
  o.initial = Seconds(2);
  Backoff backoff(o, &clock);
  RequestRetry retry(RequestKind::kRequest, "GET", 10, true, &backoff);
  EXPECT_EQ(retry.OnResponse(503, "1"), Seconds(2));    // backoff 2 s > 1 s
  EXPECT_EQ(retry.OnResponse(503, "10"), Seconds(10));  // backoff 4 s < 10 s
  EXPECT_EQ(retry.OnResponse(503, ""), std::nullopt);   // still needs Retry-After
}

}  // namespace
}  // namespace kslice::client::flowcontrol
