// Internal: finds where one JSON object ends in a byte stream that arrives in
// pieces, without parsing it, and notes where its top-level members lie so the
// watch decoder can cut out "type" and "object" without scanning them again.
//
// The scanner only tracks what decides the end of a value: strings (with
// backslash escapes) and the nesting of {} and [] (mismatches are errors, depth is
// bounded). Everything else — numbers, literals, UTF-8, control characters — is
// checked later by the real parsers on the pieces the decoder cuts out.
#ifndef KSLICE_CLIENT_WATCH_JSON_SCANNER_H_
#define KSLICE_CLIENT_WATCH_JSON_SCANNER_H_

#include <cstddef>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace kslice::client::watch::internal {

// A string or container value at depth 1 (directly inside the scanned object):
// [begin, end) offsets from the object's first byte, quotes/brackets included.
using Span = std::pair<size_t, size_t>;

class JsonObjectScanner {
 public:
  explicit JsonObjectScanner(int max_depth) : max_depth_(max_depth) {}

  // Forgets all state; the next Scan starts a new object.
  void Reset();

  // Continues scanning `data`, which holds the object from its first byte ('{'),
  // from offset `scanned()` on. Returns true when the object is complete (it then
  // ends at scanned()), false when more bytes are needed. Errors: unbalanced or
  // mismatched brackets, nesting deeper than max_depth. `data` may grow between
  // calls but the bytes already scanned must stay the same.
  absl::StatusOr<bool> Scan(absl::string_view data);

  // Bytes of the object scanned so far.
  size_t scanned() const { return pos_; }

  // The depth-1 strings and containers seen so far, in order.
  const std::vector<Span>& spans() const { return spans_; }

 private:
  const int max_depth_;
  size_t pos_ = 0;
  bool in_string_ = false;
  bool escape_ = false;
  size_t span_begin_ = 0;
  std::string stack_;  // the open brackets, outermost first
  std::vector<Span> spans_;
};

// The members of a complete JSON object, as raw JSON text (keys decoded).
struct Member {
  std::string key;
  absl::string_view value;  // the value's JSON text, no surrounding white space
};

// Splits a complete object (as delimited by JsonObjectScanner, with its spans) into
// its members. Checks the object's own syntax: `{ "key" : value , ... }`. Member
// values are only delimited, not validated. Keys with escapes are decoded.
absl::StatusOr<std::vector<Member>> SplitObject(absl::string_view object,
                                                const std::vector<Span>& spans);

// JSON white space.
inline bool IsJsonSpace(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

}  // namespace kslice::client::watch::internal

#endif  // KSLICE_CLIENT_WATCH_JSON_SCANNER_H_
