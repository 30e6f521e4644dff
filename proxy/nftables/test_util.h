// Test helpers for the nftables backend: the shared ProxyState builder and golden-file
// helpers (proxy/testing/state_builder.h), and ReadGolden for proxy/nftables/testdata.
#ifndef KSLICE_PROXY_NFTABLES_TEST_UTIL_H_
#define KSLICE_PROXY_NFTABLES_TEST_UTIL_H_

#include <string>

#include "absl/strings/str_cat.h"
#include "proxy/testing/state_builder.h"

namespace kslice::proxy::nftables::testing {

using ::kslice::proxy::testing::SaveActual;
using ::kslice::proxy::testing::StateBuilder;

// proxy/nftables/testdata/<name> from the runfiles, without lines starting with "#!"
// (file headers).
inline std::string ReadGolden(const std::string& name) {
  return ::kslice::proxy::testing::ReadTestdata(absl::StrCat("proxy/nftables/testdata/", name),
                                                "#!");
}

}  // namespace kslice::proxy::nftables::testing

#endif  // KSLICE_PROXY_NFTABLES_TEST_UTIL_H_
