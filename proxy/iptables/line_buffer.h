// LineBuffer: the text of an iptables-restore payload, built one line at a time.
//
// Each Write() appends one line: its pieces joined by single spaces, then '\n'. Empty
// pieces are skipped, which lets callers pass optional fragments ("", or
// "! -s 10.0.0.0/8") in place. Pieces are anything absl::AlphaNum accepts (string
// views, std::string, integers), so rules are written without temporary vectors:
//
//   LineBuffer rules;
//   rules.Write("-A", "KUBE-SERVICES", "-m comment --comment", comment, "-j", chain);
//
// Not thread-safe; one buffer per generation.
#ifndef KSLICE_PROXY_IPTABLES_LINE_BUFFER_H_
#define KSLICE_PROXY_IPTABLES_LINE_BUFFER_H_

#include <cstddef>
#include <initializer_list>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"

namespace kslice::proxy::iptables {

class LineBuffer {
 public:
  LineBuffer() = default;
  template <typename... Pieces>
  void Write(const Pieces&... pieces) {
    WritePieces({absl::AlphaNum(pieces).Piece()...});
  }
  // Appends `line` (without its newline) verbatim.
  void WriteLine(absl::string_view line) {
    ++lines_;
    data_.append(line.data(), line.size());
    data_.push_back('\n');
  }

  // Appends ":<chain> - [0:0]" (see ChainLine).
  void WriteChainLine(absl::string_view chain) {
    ++lines_;
    data_.push_back(':');
    data_.append(chain.data(), chain.size());
    data_.append(" - [0:0]\n");
  }

  // Appends everything `other` holds (its lines count here too).
  void Append(const LineBuffer& other) {
    lines_ += other.lines_;
    data_.append(other.data_);
  }

  // Number of lines written.
  size_t lines() const { return lines_; }
  // The text written so far.
  const std::string& data() const { return data_; }
  void Reset() {
    data_.clear();
    lines_ = 0;
  }
  void Reserve(size_t bytes) { data_.reserve(bytes); }

 private:
  void WritePieces(std::initializer_list<absl::string_view> pieces);

  std::string data_;
  size_t lines_ = 0;
};

// ":<chain> - [0:0]": declares (creates or flushes) a chain in a restore payload.
std::string ChainLine(absl::string_view chain);

}  // namespace kslice::proxy::iptables

#endif  // KSLICE_PROXY_IPTABLES_LINE_BUFFER_H_
