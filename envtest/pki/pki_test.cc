#include "envtest/pki/pki.h"

#include <openssl/bio.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>

#include "gtest/gtest.h"

namespace kslice::envtest::pki {
namespace {

X509* ReadCert(const std::string& pem) {
  BIO* bio = BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()));
  X509* cert = PEM_read_bio_X509(bio, nullptr, nullptr, nullptr);
  BIO_free(bio);
  return cert;
}

// Verifies `leaf` against `ca` with OpenSSL's chain verification, for `host` or `ip`.
bool Verifies(const KeyPair& ca, const KeyPair& leaf, const char* host, const char* ip,
              int purpose) {
  X509* ca_cert = ReadCert(ca.cert_pem);
  X509* leaf_cert = ReadCert(leaf.cert_pem);
  X509_STORE* store = X509_STORE_new();
  X509_STORE_add_cert(store, ca_cert);
  X509_STORE_CTX* ctx = X509_STORE_CTX_new();
  X509_STORE_CTX_init(ctx, store, leaf_cert, nullptr);
  X509_VERIFY_PARAM* param = X509_STORE_CTX_get0_param(ctx);
  if (host != nullptr) X509_VERIFY_PARAM_set1_host(param, host, 0);
  if (ip != nullptr) X509_VERIFY_PARAM_set1_ip_asc(param, ip);
  X509_STORE_CTX_set_purpose(ctx, purpose);
  bool ok = X509_verify_cert(ctx) == 1;
  X509_STORE_CTX_free(ctx);
  X509_STORE_free(store);
  X509_free(ca_cert);
  X509_free(leaf_cert);
  return ok;
}

TEST(Pki, ServingCertVerifiesForItsNamesOnly) {
  auto ca = GenerateCa("kslice-test-ca");
  ASSERT_TRUE(ca.ok()) << ca.status();
  CertRequest req;
  req.common_name = "kslice-apiserver";
  req.dns_names = {"localhost", "kubernetes.default.svc"};
  req.ip_addresses = {"127.0.0.1", "::1"};
  auto serving = IssueCert(*ca, req);
  ASSERT_TRUE(serving.ok()) << serving.status();
  EXPECT_TRUE(Verifies(*ca, *serving, "localhost", nullptr, X509_PURPOSE_SSL_SERVER));
  EXPECT_TRUE(Verifies(*ca, *serving, nullptr, "127.0.0.1", X509_PURPOSE_SSL_SERVER));
  EXPECT_TRUE(Verifies(*ca, *serving, nullptr, "::1", X509_PURPOSE_SSL_SERVER));
  EXPECT_FALSE(Verifies(*ca, *serving, "example.com", nullptr, X509_PURPOSE_SSL_SERVER));
  EXPECT_FALSE(Verifies(*ca, *serving, nullptr, "10.0.0.1", X509_PURPOSE_SSL_SERVER));
  EXPECT_FALSE(Verifies(*ca, *serving, "localhost", nullptr, X509_PURPOSE_SSL_CLIENT));
  // Another CA does not vouch for it.
  auto other = GenerateCa("other");
  ASSERT_TRUE(other.ok());
  EXPECT_FALSE(Verifies(*other, *serving, "localhost", nullptr, X509_PURPOSE_SSL_SERVER));
}

TEST(Pki, ClientCertCarriesGroups) {
  auto ca = GenerateCa("ca");
  ASSERT_TRUE(ca.ok());
  CertRequest req;
  req.common_name = "admin";
  req.organizations = {"system:masters"};
  req.usage = CertUsage::kClient;
  auto client = IssueCert(*ca, req);
  ASSERT_TRUE(client.ok()) << client.status();
  EXPECT_TRUE(Verifies(*ca, *client, nullptr, nullptr, X509_PURPOSE_SSL_CLIENT));
  X509* cert = ReadCert(client->cert_pem);
  char buf[256];
  X509_NAME_get_text_by_NID(X509_get_subject_name(cert), NID_organizationName, buf, sizeof(buf));
  EXPECT_STREQ(buf, "system:masters");
  X509_free(cert);
}

TEST(Pki, BadInput) {
  auto ca = GenerateCa("ca");
  ASSERT_TRUE(ca.ok());
  CertRequest req;
  req.common_name = "x";
  req.ip_addresses = {"not-an-ip"};
  EXPECT_FALSE(IssueCert(*ca, req).ok());
  KeyPair broken{"garbage", ca->key_pem};
  req.ip_addresses.clear();
  EXPECT_FALSE(IssueCert(broken, req).ok());
  KeyPair broken_key{ca->cert_pem, "garbage"};
  EXPECT_FALSE(IssueCert(broken_key, req).ok());
}

}  // namespace
}  // namespace kslice::envtest::pki
