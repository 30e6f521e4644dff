#include "client/errors/errors.h"

#include <string>

#include "absl/status/status.h"
#include "api/codec/codec.h"
#include "gmock/gmock.h"
#include "google/protobuf/util/message_differencer.h"
#include "gtest/gtest.h"

namespace kslice::client {
namespace {

using ::google::protobuf::util::MessageDifferencer;
using ::testing::HasSubstr;

ResponseInfo Ct(std::string content_type, std::string retry_after = "", std::string verb = "") {
  ResponseInfo info;
  info.content_type = std::move(content_type);
  info.retry_after = std::move(retry_after);
  info.verb = std::move(verb);
  return info;
}

StatusError Bare(int code, std::string r = "") {
  MetaStatus m;
  m.set_code(code);
  m.set_reason(std::move(r));
  return StatusError(m);
}

ResponseInfo Named(std::string retry_after, std::string verb, std::string group,
                   std::string resource, std::string name) {
  ResponseInfo info;
  info.retry_after = std::move(retry_after);
  info.verb = std::move(verb);
  info.group = std::move(group);
  info.resource = std::move(resource);
  info.name = std::move(name);
  return info;
}

TEST(StatusErrorTest, FromResponseDecodesJsonStatus) {
  const std::string body = R"({"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure",)"
                           R"("message":"pods \"web-0\" not found","reason":"NotFound",)"
                           R"("details":{"name":"web-0","kind":"pods"},"code":404})";
  StatusError e = StatusError::FromResponse(404, body, Ct("application/json"));
  EXPECT_EQ(e.code(), 404);
  EXPECT_EQ(e.reason(), "NotFound");
  EXPECT_EQ(e.message(), "pods \"web-0\" not found");
  EXPECT_EQ(e.status().details().name(), "web-0");
  EXPECT_EQ(e.status().details().kind(), "pods");
  EXPECT_TRUE(IsNotFound(e));
  EXPECT_FALSE(IsUnexpectedServerError(e));
}

TEST(StatusErrorTest, FromResponseDecodesProtobufStatus) {
  StatusError original = NewConflict({"apps", "deployments"}, "web");
  absl::StatusOr<std::string> pb = codec::Encode(original.status(), codec::Format::kProtobuf);
  ASSERT_TRUE(pb.ok()) << pb.status();
  StatusError e = StatusError::FromResponse(409, *pb, Ct("application/vnd.kubernetes.protobuf"));
  EXPECT_TRUE(IsConflict(e));
  EXPECT_EQ(e.message(),
            "Operation cannot be fulfilled on deployments.apps \"web\": the object has been "
            "modified; please apply your changes to the latest version and try again");
  // Without a content type the protobuf magic is recognized too.
  EXPECT_TRUE(IsConflict(StatusError::FromResponse(409, *pb)));
}

TEST(StatusErrorTest, FromResponseAcceptsStatusWithoutTypeMetaOrCode) {
  // Old servers may omit apiVersion; a missing code is filled from HTTP.
  StatusError e = StatusError::FromResponse(
      409, R"({"status":"Failure","reason":"AlreadyExists","message":"x"})",
      Ct("application/json; charset=utf-8"));
  EXPECT_EQ(e.code(), 409);
  EXPECT_TRUE(IsAlreadyExists(e));
  // meta.k8s.io/v1 is accepted as Status's group version as well.
  e = StatusError::FromResponse(
      500, R"({"kind":"Status","apiVersion":"meta.k8s.io/v1","status":"Failure","code":500,)"
           R"("reason":"InternalError","message":"boom"})");
  EXPECT_TRUE(IsInternalError(e));
  EXPECT_EQ(e.message(), "boom");
}

TEST(StatusErrorTest, FromResponseSuccessStatusIsNotUsed) {
  // client-go only trusts a Status with status Failure.
  StatusError e = StatusError::FromResponse(
      404, R"({"kind":"Status","apiVersion":"v1","status":"Success","code":200})",
      Ct("application/json"));
  EXPECT_TRUE(IsUnexpectedServerError(e));
  EXPECT_TRUE(IsNotFound(e));
  EXPECT_EQ(e.code(), 404);
}

TEST(StatusErrorTest, FromResponseRetryAfterFillsDetails) {
  StatusError e = StatusError::FromResponse(
      429,
      R"({"kind":"Status","apiVersion":"v1","status":"Failure","code":429,)"
      R"("reason":"TooManyRequests","message":"slow down"})",
      Ct("application/json", "3"));
  EXPECT_TRUE(IsTooManyRequests(e));
  EXPECT_EQ(SuggestsClientDelay(e), 3);
}

struct SyntheticCase {
  int code;
  std::string verb;
  std::string reason;
  std::string message;
};

TEST(StatusErrorTest, FromResponseSynthesizesLikeClientGo) {
  const SyntheticCase cases[] = {
      {400, "GET", "BadRequest", "the server rejected our request for an unknown reason"},
      {401, "GET", "Unauthorized", "the server has asked for the client to provide credentials"},
      {403, "GET", "Forbidden", "nope"},
      {404, "GET", "NotFound", "the server could not find the requested resource"},
      {405, "GET", "MethodNotAllowed",
       "the server does not allow this method on the requested resource"},
      {406, "GET", "NotAcceptable", "nope"},
      {409, "PUT", "Conflict", "the server reported a conflict"},
      {409, "POST", "AlreadyExists", "the server reported a conflict"},
      {410, "GET", "",
       "the server responded with the status code 410 but did not return more "
       "information"},
      {415, "GET", "UnsupportedMediaType", "nope"},
      {422, "GET", "Invalid", "the server rejected our request due to an error in our request"},
      {429, "GET", "TooManyRequests",
       "the server has received too many requests and has asked us to try again later"},
      {500, "GET", "InternalError",
       "an error on the server (\"nope\") has prevented the request from succeeding"},
      {502, "GET", "InternalError",
       "an error on the server (\"nope\") has prevented the request from succeeding"},
      {503, "GET", "ServiceUnavailable", "the server is currently unable to handle the request"},
      {504, "GET", "Timeout",
       "the server was unable to return a response in the time allotted, but may still be "
       "processing the request"},
  };
  for (const SyntheticCase& c : cases) {
    SCOPED_TRACE(c.code);
    StatusError e = StatusError::FromResponse(c.code, "  nope\n", Ct("text/plain", "", c.verb));
    EXPECT_EQ(e.code(), c.code);
    EXPECT_EQ(e.reason(), c.reason);
    EXPECT_EQ(e.status().status(), "Failure");
    // The body is appended when client-go's text does not contain it already.
    const bool has_body = c.message.find("nope") != std::string::npos;
    EXPECT_EQ(e.message(), has_body ? c.message : c.message + ": nope");
    EXPECT_TRUE(IsUnexpectedServerError(e));
    ASSERT_EQ(e.status().details().causes_size(), 1);
    EXPECT_EQ(e.status().details().causes(0).reason(), "UnexpectedServerResponse");
    EXPECT_EQ(e.status().details().causes(0).message(), "nope");
  }
}

TEST(StatusErrorTest, FromResponseNonTextBodyIsUnknown) {
  // A JSON body that is not a Status: client-go keeps only "unknown".
  StatusError e =
      StatusError::FromResponse(404, R"({"kind":"Pod","apiVersion":"v1"})", Ct("application/json"));
  EXPECT_TRUE(IsNotFound(e));
  EXPECT_EQ(e.message(), "the server could not find the requested resource");
  EXPECT_EQ(e.status().details().causes(0).message(), "unknown");
  // An unreadable content type is not text either.
  e = StatusError::FromResponse(500, "\x01\x02", Ct("application/octet-stream"));
  EXPECT_EQ(e.message(),
            "an error on the server (\"unknown\") has prevented the request from succeeding");
}

TEST(StatusErrorTest, FromResponseNamesResourceAndTrimsBody) {
  std::string body(5000, 'x');
  StatusError e =
      StatusError::FromResponse(404, body, Named("7", "GET", "apps", "deployments", "web"));
  EXPECT_THAT(std::string(e.message()),
              HasSubstr("the server could not find the requested resource (get deployments.apps "
                        "web): xxx"));
  EXPECT_EQ(e.status().details().causes(0).message().size(), 2048u);
  EXPECT_EQ(e.status().details().group(), "apps");
  EXPECT_EQ(e.status().details().kind(), "deployments");
  EXPECT_EQ(e.status().details().name(), "web");
  EXPECT_EQ(e.status().details().retryafterseconds(), 7);
  EXPECT_EQ(SuggestsClientDelay(e), 7);

  // Trimming never splits a UTF-8 sequence.
  std::string utf8(2047, 'a');
  utf8 += "\xC3\xA9tail";
  e = StatusError::FromResponse(500, utf8);
  EXPECT_EQ(e.status().details().causes(0).message(), std::string(2047, 'a'));
}

TEST(StatusErrorTest, FromResponseGarbageJson) {
  StatusError e = StatusError::FromResponse(503, "{not json", Ct("application/json"));
  EXPECT_TRUE(IsServiceUnavailable(e));
  EXPECT_TRUE(IsUnexpectedServerError(e));
}

TEST(StatusErrorTest, ToStringForLogs) {
  EXPECT_EQ(NewNotFound({"", "pods"}, "x").ToString(), "NotFound (404): pods \"x\" not found");
  MetaStatus s;
  s.set_code(418);
  EXPECT_EQ(StatusError(s).ToString(), "Unknown (418): ");
  EXPECT_EQ(StatusError(s).status().status(), "Failure");
}

TEST(AbslStatusTest, RoundTripKeepsTheStatus) {
  StatusError e = NewInvalid({"", "Pod"}, "p", {FieldError::Required("spec.containers")});
  absl::Status s = ToStatus(e);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(s.message(), e.message());
  std::optional<StatusError> back = FromStatus(s);
  ASSERT_TRUE(back.has_value());
  EXPECT_TRUE(MessageDifferencer::Equals(back->status(), e.status()));
  EXPECT_TRUE(IsInvalid(s));
  EXPECT_FALSE(absl::IsNotFound(s));
  EXPECT_EQ(ReasonForError(s), "Invalid");

  // Copies of the status keep the payload; OK and foreign statuses carry none.
  absl::Status copy = s;
  EXPECT_TRUE(IsInvalid(copy));
  EXPECT_FALSE(FromStatus(absl::OkStatus()).has_value());
  EXPECT_FALSE(FromStatus(absl::NotFoundError("x")).has_value());
  EXPECT_FALSE(IsInvalid(absl::InvalidArgumentError("x")));
  EXPECT_EQ(ReasonForError(absl::NotFoundError("x")), "");

  // A corrupt payload is no StatusError.
  absl::Status bad = absl::NotFoundError("x");
  bad.SetPayload(absl::string_view(kStatusPayloadUrl), absl::Cord("\xff\xff\xff"));
  EXPECT_FALSE(FromStatus(bad).has_value());
}

TEST(AbslStatusTest, AbslPredicatesAgreeForNotFoundAndAlreadyExists) {
  const StatusError errors[] = {NewNotFound({"", "pods"}, "x"),
                                NewAlreadyExists({"", "pods"}, "x"),
                                Bare(404),
                                Bare(404, "Whatever"),
                                Bare(404, "Forbidden"),
                                Bare(500, "NotFound"),
                                Bare(409),
                                Bare(409, "AlreadyExists"),
                                Bare(409, "Conflict"),
                                NewConflict({"", "pods"}, "x")};
  for (const StatusError& e : errors) {
    SCOPED_TRACE(e.ToString());
    EXPECT_EQ(absl::IsNotFound(ToStatus(e)), IsNotFound(e));
    EXPECT_EQ(absl::IsAlreadyExists(ToStatus(e)), IsAlreadyExists(e));
  }
}

TEST(AbslStatusTest, EmptyMessageGetsGenericText) {
  MetaStatus m;
  m.set_code(404);
  m.set_reason("NotFound");
  absl::Status s = ToStatus(StatusError(m));
  EXPECT_EQ(s.message(), "the server responded with status code 404 (NotFound)");
}

TEST(AbslStatusTest, CanonicalCodes) {
  struct Case {
    StatusError error;
    absl::StatusCode code;
  };
  const Case cases[] = {
      {NewNotFound({"", "pods"}, "x"), absl::StatusCode::kNotFound},
      {NewAlreadyExists({"", "pods"}, "x"), absl::StatusCode::kAlreadyExists},
      {NewConflict({"", "pods"}, "x"), absl::StatusCode::kAborted},
      {NewGone("old"), absl::StatusCode::kOutOfRange},
      {NewResourceExpired("old"), absl::StatusCode::kOutOfRange},
      {NewInvalid({"", "Pod"}, "x", {}), absl::StatusCode::kInvalidArgument},
      {NewBadRequest("x"), absl::StatusCode::kInvalidArgument},
      {NewRequestEntityTooLarge("x"), absl::StatusCode::kInvalidArgument},
      {NewForbidden({"", "pods"}, "x", "no"), absl::StatusCode::kPermissionDenied},
      {NewUnauthorized(), absl::StatusCode::kUnauthenticated},
      {NewTooManyRequests("x", 1), absl::StatusCode::kResourceExhausted},
      {NewServerTimeout({"", "pods"}, "get", 1), absl::StatusCode::kDeadlineExceeded},
      {NewTimeoutError("x", 1), absl::StatusCode::kDeadlineExceeded},
      {NewInternalError("x"), absl::StatusCode::kInternal},
      {NewServiceUnavailable("x"), absl::StatusCode::kUnavailable},
      {NewMethodNotSupported({"", "pods"}, "patch"), absl::StatusCode::kUnimplemented},
      {NewNotAcceptable({"application/json"}), absl::StatusCode::kUnimplemented},
      {NewUnsupportedMediaType({"application/json"}), absl::StatusCode::kUnimplemented},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.error.ToString());
    EXPECT_EQ(CanonicalCode(c.error), c.code);
    EXPECT_EQ(ToStatus(c.error).code(), c.code);
  }
  // Unknown reasons fall back to the HTTP code.
  auto bare = [](int code) {
    MetaStatus m;
    m.set_code(code);
    m.set_reason("SomethingNew");
    return CanonicalCode(StatusError(m));
  };
  EXPECT_EQ(bare(404), absl::StatusCode::kNotFound);
  EXPECT_EQ(bare(409), absl::StatusCode::kAborted);
  EXPECT_EQ(bare(410), absl::StatusCode::kOutOfRange);
  EXPECT_EQ(bare(429), absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(bare(502), absl::StatusCode::kUnavailable);
  EXPECT_EQ(bare(507), absl::StatusCode::kInternal);
  EXPECT_EQ(bare(418), absl::StatusCode::kUnknown);
  MetaStatus store;
  store.set_code(500);
  store.set_reason("StorageReadError");
  EXPECT_EQ(CanonicalCode(StatusError(store)), absl::StatusCode::kDataLoss);
}

TEST(PredicateTest, ReasonOrBareCode) {
  // A known reason decides; the code only counts when the reason is unknown.
  EXPECT_TRUE(IsNotFound(Bare(404)));
  EXPECT_TRUE(IsNotFound(Bare(404, "Whatever")));
  EXPECT_FALSE(IsNotFound(Bare(404, "Forbidden")));
  EXPECT_TRUE(IsNotFound(Bare(500, "NotFound")));
  EXPECT_TRUE(IsConflict(Bare(409)));
  EXPECT_FALSE(IsConflict(Bare(409, "AlreadyExists")));
  EXPECT_FALSE(IsAlreadyExists(Bare(409)));
  EXPECT_TRUE(IsInvalid(Bare(422)));
  EXPECT_TRUE(IsBadRequest(Bare(400)));
  EXPECT_TRUE(IsForbidden(Bare(403)));
  EXPECT_TRUE(IsUnauthorized(Bare(401)));
  EXPECT_TRUE(IsMethodNotSupported(Bare(405)));
  EXPECT_TRUE(IsNotAcceptable(Bare(406)));
  EXPECT_TRUE(IsUnsupportedMediaType(Bare(415)));
  EXPECT_TRUE(IsTimeout(Bare(504)));
  EXPECT_TRUE(IsInternalError(Bare(500)));
  EXPECT_FALSE(IsInternalError(Bare(500, "ServerTimeout")));
  EXPECT_TRUE(IsServiceUnavailable(Bare(503)));
  // 429 and 413 count whatever the reason.
  EXPECT_TRUE(IsTooManyRequests(Bare(429, "Forbidden")));
  EXPECT_TRUE(IsRequestEntityTooLarge(Bare(413, "BadRequest")));
  // ServerTimeout and StorageReadError have no code of their own.
  EXPECT_TRUE(IsServerTimeout(Bare(500, "ServerTimeout")));
  EXPECT_FALSE(IsServerTimeout(Bare(504)));
  EXPECT_TRUE(IsStoreReadError(Bare(500, "StorageReadError")));
}

TEST(PredicateTest, GoneAndExpired) {
  EXPECT_TRUE(IsResourceExpired(NewResourceExpired("too old resource version: 5 (10)")));
  EXPECT_FALSE(IsGone(NewResourceExpired("x")));
  EXPECT_TRUE(IsGone(NewGone("x")));
  EXPECT_FALSE(IsResourceExpired(NewGone("x")));
  EXPECT_TRUE(IsResourceExpired(Bare(410)));
  EXPECT_TRUE(IsGone(Bare(410)));
  for (const StatusError& e : {NewGone("x"), NewResourceExpired("x"), Bare(410)}) {
    EXPECT_TRUE(IsGoneOrExpired(e));
    EXPECT_TRUE(IsGoneOrExpired(ToStatus(e)));
  }
  EXPECT_FALSE(IsGoneOrExpired(Bare(404)));
}

TEST(PredicateTest, SuggestsClientDelay) {
  EXPECT_EQ(SuggestsClientDelay(NewTooManyRequests("x", 2)), 2);
  EXPECT_EQ(SuggestsClientDelay(NewServerTimeout({"", "pods"}, "list", 0)), 0);
  EXPECT_EQ(SuggestsClientDelay(NewTimeoutError("x", 1)), 1);
  EXPECT_EQ(SuggestsClientDelay(NewTimeoutError("x", 0)), std::nullopt);
  EXPECT_EQ(SuggestsClientDelay(NewNotFound({"", "pods"}, "x")), std::nullopt);
  EXPECT_EQ(SuggestsClientDelay(ToStatus(NewTooManyRequests("x", 4))), 4);
  EXPECT_EQ(SuggestsClientDelay(absl::UnavailableError("x")), std::nullopt);
}

TEST(PredicateTest, FindCause) {
  MetaStatus m = NewTimeoutError("Too large resource version: 10, current: 5", 1).status();
  auto* c = m.mutable_details()->add_causes();
  c->set_reason("ResourceVersionTooLarge");
  c->set_message("Too large resource version");
  std::optional<api::meta::v1::StatusCause> found =
      FindCause(StatusError(m), cause::kResourceVersionTooLarge);
  ASSERT_TRUE(found.has_value());
  EXPECT_EQ(found->message(), "Too large resource version");
  EXPECT_FALSE(FindCause(StatusError(m), cause::kFieldValueInvalid).has_value());
}

TEST(ConstructorTest, UpstreamMessages) {
  EXPECT_EQ(NewNotFound({"", "pods"}, "x").message(), "pods \"x\" not found");
  EXPECT_EQ(NewNotFound({"discovery.k8s.io", "endpointslices"}, "s").message(),
            "endpointslices.discovery.k8s.io \"s\" not found");
  EXPECT_EQ(NewAlreadyExists({"", "pods"}, "x").message(), "pods \"x\" already exists");
  EXPECT_EQ(NewGenerateNameConflict({"", "pods"}, "web-abcde", 1).message(),
            "pods \"web-abcde\" already exists, the server was not able to generate a unique "
            "name for the object");
  EXPECT_EQ(NewGenerateNameConflict({"", "pods"}, "w", 1).status().details().retryafterseconds(),
            1);
  EXPECT_EQ(NewConflict({"", "pods"}, "x").message(),
            "Operation cannot be fulfilled on pods \"x\": the object has been modified; please "
            "apply your changes to the latest version and try again");
  EXPECT_EQ(NewForbidden({"", "pods"}, "x", "User \"u\" cannot get resource \"pods\"").message(),
            "pods \"x\" is forbidden: User \"u\" cannot get resource \"pods\"");
  EXPECT_EQ(NewForbidden({"", "pods"}, "", "no").message(), "pods is forbidden: no");
  EXPECT_EQ(NewForbidden({}, "", "no").message(), "forbidden: no");
  EXPECT_EQ(NewUnauthorized().message(), "not authorized");
  EXPECT_EQ(NewUnauthorized("Unauthorized").message(), "Unauthorized");
  EXPECT_EQ(NewMethodNotSupported({"", "pods"}, "deletecollection").message(),
            "deletecollection is not supported on resources of kind \"pods\"");
  EXPECT_EQ(NewInternalError("disk full").message(), "Internal error occurred: disk full");
  EXPECT_EQ(NewInternalError("disk full").status().details().causes(0).message(), "disk full");
  EXPECT_EQ(NewServerTimeout({"", "pods"}, "list", 2).message(),
            "The list operation against pods could not be completed at this time, please try "
            "again.");
  EXPECT_EQ(NewServerTimeout({"", "pods"}, "list", 2).code(), 500);
  EXPECT_EQ(NewTimeoutError("request did not complete within 60s", 0).message(),
            "Timeout: request did not complete within 60s");
  EXPECT_EQ(NewTimeoutError("x", 0).code(), 504);
  EXPECT_EQ(NewNotAcceptable({"application/json", "application/yaml"}).message(),
            "only the following media types are accepted: application/json, application/yaml");
  EXPECT_EQ(NewUnsupportedMediaType({"application/json"}).message(),
            "the body of the request was in an unknown format - accepted media types include: "
            "application/json");
  EXPECT_EQ(NewRequestEntityTooLarge("limit is 3145728").message(),
            "Request entity too large: limit is 3145728");
  EXPECT_EQ(NewTooManyRequests("x", 5).code(), 429);
  EXPECT_EQ(NewResourceExpired("too old resource version: 1 (2)").code(), 410);
  EXPECT_EQ(NewResourceExpired("x").reason(), "Expired");
  EXPECT_EQ(NewGone("x").reason(), "Gone");
  EXPECT_EQ(NewBadRequest("bad").code(), 400);
  EXPECT_EQ(NewServiceUnavailable("x").code(), 503);

  StatusError nf = NewNotFound({"apps", "deployments"}, "d");
  EXPECT_EQ(nf.status().status(), "Failure");
  EXPECT_EQ(nf.status().details().group(), "apps");
  EXPECT_EQ(nf.status().details().kind(), "deployments");
  EXPECT_EQ(nf.status().details().name(), "d");

  std::vector<api::meta::v1::StatusCause> causes(1);
  causes[0].set_reason("FieldManagerConflict");
  causes[0].set_field(".spec.replicas");
  StatusError apply = NewApplyConflict(causes, "Apply failed with 1 conflict");
  EXPECT_TRUE(IsConflict(apply));
  EXPECT_TRUE(FindCause(apply, cause::kFieldManagerConflict).has_value());
}

TEST(ConstructorTest, NewInvalidAggregatesLikeUpstream) {
  StatusError none = NewInvalid({"", "Pod"}, "p", {});
  EXPECT_EQ(none.message(), "Pod \"p\" is invalid");
  EXPECT_EQ(none.code(), 422);

  StatusError one =
      NewInvalid({"apps", "Deployment"}, "d", {FieldError::Required("spec.selector")});
  EXPECT_EQ(one.message(), "Deployment.apps \"d\" is invalid: spec.selector: Required value");
  EXPECT_EQ(one.status().details().kind(), "Deployment");
  EXPECT_EQ(one.status().details().group(), "apps");
  ASSERT_EQ(one.status().details().causes_size(), 1);
  EXPECT_EQ(one.status().details().causes(0).reason(), "FieldValueRequired");
  EXPECT_EQ(one.status().details().causes(0).field(), "spec.selector");
  EXPECT_EQ(one.status().details().causes(0).message(), "Required value");

  StatusError many = NewInvalid(
      {"", "Pod"}, "p",
      {FieldError::Invalid("metadata.name", "Bad_Name", "a lowercase RFC 1123 subdomain"),
       FieldError::Invalid("spec.replicas", -1, "must be greater than or equal to 0"),
       FieldError::Invalid("spec.replicas", -1, "must be greater than or equal to 0")});
  EXPECT_EQ(many.message(),
            "Pod \"p\" is invalid: [metadata.name: Invalid value: \"Bad_Name\": a lowercase RFC "
            "1123 subdomain, spec.replicas: Invalid value: -1: must be greater than or equal to "
            "0]");
  EXPECT_EQ(many.status().details().causes_size(), 3);

  // Duplicates collapsing to one message print without brackets.
  StatusError dup =
      NewInvalid({"", "Pod"}, "p", {FieldError::Required("a"), FieldError::Required("a")});
  EXPECT_EQ(dup.message(), "Pod \"p\" is invalid: a: Required value");
}

TEST(ConstructorTest, FieldErrorBodies) {
  EXPECT_EQ(FieldError::Required("f").body, "Required value");
  EXPECT_EQ(FieldError::Required("f", "why").body, "Required value: why");
  EXPECT_EQ(FieldError::Forbidden("f", "not allowed").body, "Forbidden: not allowed");
  EXPECT_EQ(
      FieldError::NotSupported("spec.restartPolicy", "Sometimes", {"Always", "Never", "OnFailure"})
          .ToString(),
      "spec.restartPolicy: Unsupported value: \"Sometimes\": supported values: \"Always\", "
      "\"Never\", \"OnFailure\"");
  EXPECT_EQ(FieldError::Duplicate("f", "x").body, "Duplicate value: \"x\"");
  EXPECT_EQ(FieldError::NotFound("f", "x").body, "Not found: \"x\"");
  EXPECT_EQ(FieldError::TooLong("f", 63).body, "Too long: may not be more than 63 bytes");
  EXPECT_EQ(FieldError::TooLong("f", 1).body, "Too long: may not be more than 1 byte");
  EXPECT_EQ(FieldError::TooMany("f", 5, 3).body, "Too many: 5: must have at most 3 items");
  EXPECT_EQ(FieldError::Internal("f", "oops").body, "Internal error: oops");
  EXPECT_EQ(FieldError::Internal("f", "oops").type, "InternalError");
  EXPECT_EQ(FieldError::TypeInvalid("f", "x", "must be int").type, "FieldValueTypeInvalid");
}

TEST(HelperTest, GoQuote) {
  EXPECT_EQ(GoQuote(""), "\"\"");
  EXPECT_EQ(GoQuote("web-0"), "\"web-0\"");
  EXPECT_EQ(GoQuote("a\"b\\c"), "\"a\\\"b\\\\c\"");
  EXPECT_EQ(GoQuote("\n\t\r\a\b\f\v"), "\"\\n\\t\\r\\a\\b\\f\\v\"");
  EXPECT_EQ(GoQuote(std::string("\x01\x7f", 2)), "\"\\x01\\x7f\"");
  EXPECT_EQ(GoQuote("h\xC3\xA9llo \xE2\x82\xAC"), "\"h\xC3\xA9llo \xE2\x82\xAC\"");
  EXPECT_EQ(GoQuote("\xff"), "\"\\xff\"");
  EXPECT_EQ(GoQuote("\xC3"), "\"\\xc3\"");
  EXPECT_EQ(GoQuote("\xC0\x80"), "\"\\xc0\\x80\"");  // overlong
  EXPECT_EQ(GoQuote("\xC2\x85"), "\"\\u0085\"");     // C1 control
}

TEST(HelperTest, ParseRetryAfterSeconds) {
  EXPECT_EQ(ParseRetryAfterSeconds("5"), 5);
  EXPECT_EQ(ParseRetryAfterSeconds(" 12 "), 12);
  EXPECT_EQ(ParseRetryAfterSeconds("+3"), 3);
  EXPECT_EQ(ParseRetryAfterSeconds("-1"), -1);
  EXPECT_EQ(ParseRetryAfterSeconds("0"), 0);
  EXPECT_EQ(ParseRetryAfterSeconds(""), std::nullopt);
  EXPECT_EQ(ParseRetryAfterSeconds("1.5"), std::nullopt);
  EXPECT_EQ(ParseRetryAfterSeconds("Wed, 21 Oct 2015 07:28:00 GMT"), std::nullopt);
  EXPECT_EQ(ParseRetryAfterSeconds("99999999999"), std::nullopt);
  EXPECT_EQ(ParseRetryAfterSeconds("+"), std::nullopt);
}

TEST(EncodingTest, ConstructedStatusEncodesLikeTheServer) {
  absl::StatusOr<std::string> json =
      codec::Encode(NewNotFound({"", "pods"}, "x").status(), codec::Format::kJson);
  ASSERT_TRUE(json.ok()) << json.status();
  EXPECT_EQ(*json, R"({"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure",)"
                   R"("message":"pods \"x\" not found","reason":"NotFound",)"
                   R"("details":{"name":"x","kind":"pods"},"code":404})");
}

}  // namespace
}  // namespace kslice::client
