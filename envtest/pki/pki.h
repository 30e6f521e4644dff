// Certificates for kslice's embedded API server and its tests: a self-signed CA and
// leaf certificates it issues (ECDSA P-256, SHA-256), as PEM text.
//
//   absl::StatusOr<KeyPair> ca = GenerateCa("kslice-ca");
//   CertRequest req;
//   req.common_name = "kslice-apiserver";
//   req.dns_names = {"localhost"};
//   req.ip_addresses = {"127.0.0.1"};
//   req.usage = CertUsage::kServer;
//   absl::StatusOr<KeyPair> serving = IssueCert(*ca, req);
#ifndef KSLICE_ENVTEST_PKI_PKI_H_
#define KSLICE_ENVTEST_PKI_PKI_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace kslice::envtest::pki {

struct KeyPair {
  std::string cert_pem;
  std::string key_pem;  // PKCS#8 private key
};

enum class CertUsage { kServer, kClient, kServerAndClient };

struct CertRequest {
  std::string common_name;
  std::vector<std::string> organizations;  // for client certs: Kubernetes groups
  std::vector<std::string> dns_names;
  std::vector<std::string> ip_addresses;  // IPv4 or IPv6 literals
  CertUsage usage = CertUsage::kServer;
  absl::Duration validity = absl::Hours(24 * 365);
};

// A self-signed CA certificate (basicConstraints CA:TRUE, keyCertSign).
absl::StatusOr<KeyPair> GenerateCa(const std::string& common_name,
                                   absl::Duration validity = absl::Hours(24 * 3650));

// A leaf certificate signed by `ca`. Invalid IP literals or a malformed CA are errors.
absl::StatusOr<KeyPair> IssueCert(const KeyPair& ca, const CertRequest& request);

}  // namespace kslice::envtest::pki

#endif  // KSLICE_ENVTEST_PKI_PKI_H_
