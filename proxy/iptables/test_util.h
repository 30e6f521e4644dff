// Test helpers for the iptables backend: the shared ProxyState builder and golden-file
// helpers (proxy/testing/state_builder.h), and ReadGolden for proxy/iptables/testdata.
#ifndef KSLICE_PROXY_IPTABLES_TEST_UTIL_H_
#define KSLICE_PROXY_IPTABLES_TEST_UTIL_H_

#include <string>

#include "absl/strings/str_cat.h"
#include "proxy/testing/state_builder.h"

namespace kslice::proxy::iptables::testing {

using ::kslice::proxy::testing::SaveActual;
using ::kslice::proxy::testing::StateBuilder;

// proxy/iptables/testdata/<name> from the runfiles, dropping lines that start with '#'.
inline std::string ReadGolden(const std::string& name) {
  return ::kslice::proxy::testing::ReadTestdata(absl::StrCat("proxy/iptables/testdata/", name),
                                                "#");
}

}  // namespace kslice::proxy::iptables::testing

#endif  // KSLICE_PROXY_IPTABLES_TEST_UTIL_H_
