#include "proxy/iptables/line_buffer.h"

namespace kslice::proxy::iptables {

void LineBuffer::WritePieces(std::initializer_list<absl::string_view> pieces) {
  ++lines_;
  bool first = true;
  for (absl::string_view piece : pieces) {
    if (piece.empty()) continue;
    if (!first) data_.push_back(' ');
    data_.append(piece.data(), piece.size());
    first = false;
  }
  data_.push_back('\n');
}

std::string ChainLine(absl::string_view chain) { return absl::StrCat(":", chain, " - [0:0]"); }

}  // namespace kslice::proxy::iptables
