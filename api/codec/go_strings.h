// Go's ways of writing a string, which Kubernetes messages, logs and JSON bodies
// reproduce byte for byte: strconv.Quote (%q: field errors, klog values) and
// encoding/json (JSON values in messages and patches).
#ifndef KSLICE_API_CODEC_GO_STRINGS_H_
#define KSLICE_API_CODEC_GO_STRINGS_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace kslice::codec {

// Go's strconv.Quote: '"' and '\' escaped, \a \b \f \n \r \t \v, other ASCII controls
// as \xNN, invalid UTF-8 bytes as \xNN, C1 controls as \u00NN; other UTF-8 kept.
// (Beyond C1, Go also escapes code points unicode.IsPrint rejects; those are kept.)
void AppendGoQuoted(std::string* out, std::string_view s);
std::string GoQuoted(std::string_view s);

// A JSON string as Go's encoding/json writes it: '<', '>', '&' and controls as \u00NN,
// \n \r \t \b \f, invalid UTF-8 as \ufffd, U+2028 / U+2029 escaped.
void AppendGoJsonString(std::string* out, std::string_view s);
std::string GoJsonString(std::string_view s);

// The code point at s[i] if it starts a valid UTF-8 sequence of 2–4 bytes: its length,
// 0 otherwise (ASCII included).
size_t DecodeUtf8(std::string_view s, size_t i, uint32_t* rune);

}  // namespace kslice::codec

#endif  // KSLICE_API_CODEC_GO_STRINGS_H_
