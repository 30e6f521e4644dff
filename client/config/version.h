// kslice's version, as clients announce it (User-Agent) and as tools print it.
#ifndef KSLICE_CLIENT_CONFIG_VERSION_H_
#define KSLICE_CLIENT_CONFIG_VERSION_H_

namespace kslice::client {

// Semantic version of the library. Bumped by hand at release time.
inline constexpr char kVersion[] = "0.1.0";

// The User-Agent every RestConfig starts with: "kslice/<version>".
inline constexpr char kDefaultUserAgent[] = "kslice/0.1.0";

}  // namespace kslice::client

#endif  // KSLICE_CLIENT_CONFIG_VERSION_H_
