#include "envtest/pki/pki.h"

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <memory>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace kslice::envtest::pki {

namespace {

template <typename T, void (*F)(T*)>
struct Deleter {
  void operator()(T* p) const { F(p); }
};
using PKey = std::unique_ptr<EVP_PKEY, Deleter<EVP_PKEY, EVP_PKEY_free>>;
using Cert = std::unique_ptr<X509, Deleter<X509, X509_free>>;
using Bio = std::unique_ptr<BIO, Deleter<BIO, BIO_free_all>>;
using Ext = std::unique_ptr<X509_EXTENSION, Deleter<X509_EXTENSION, X509_EXTENSION_free>>;

absl::Status OpensslError(absl::string_view what) {
  unsigned long code = ERR_get_error();
  char buf[256] = "unknown error";
  if (code != 0) ERR_error_string_n(code, buf, sizeof(buf));
  ERR_clear_error();
  return absl::InternalError(absl::StrCat(what, ": ", buf));
}

absl::StatusOr<PKey> NewKey() {
  PKey key(EVP_EC_gen("P-256"));
  if (!key) return OpensslError("generating an EC key");
  return key;
}

absl::StatusOr<std::string> ToPem(X509* cert) {
  Bio bio(BIO_new(BIO_s_mem()));
  if (!bio || PEM_write_bio_X509(bio.get(), cert) != 1) return OpensslError("writing certificate");
  char* data = nullptr;
  long n = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<size_t>(n));
}

absl::StatusOr<std::string> ToPem(EVP_PKEY* key) {
  Bio bio(BIO_new(BIO_s_mem()));
  if (!bio || PEM_write_bio_PrivateKey(bio.get(), key, nullptr, nullptr, 0, nullptr, nullptr) != 1) {
    return OpensslError("writing private key");
  }
  char* data = nullptr;
  long n = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<size_t>(n));
}

absl::Status AddExtension(X509* cert, X509* issuer, int nid, const std::string& value) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
  Ext ext(X509V3_EXT_conf_nid(nullptr, &ctx, nid, value.c_str()));
  if (!ext || X509_add_ext(cert, ext.get(), -1) != 1) {
    return OpensslError(absl::StrCat("adding extension ", OBJ_nid2sn(nid), "=", value));
  }
  return absl::OkStatus();
}

// A certificate with a random serial, subject CN/O, validity and public key set.
absl::StatusOr<Cert> NewCert(const std::string& cn, const std::vector<std::string>& orgs,
                             EVP_PKEY* key, absl::Duration validity) {
  Cert cert(X509_new());
  if (!cert) return OpensslError("allocating certificate");
  X509_set_version(cert.get(), 2);
  unsigned char serial[16];
  if (RAND_bytes(serial, sizeof(serial)) != 1) return OpensslError("random serial");
  serial[0] &= 0x7f;  // positive
  BIGNUM* bn = BN_bin2bn(serial, sizeof(serial), nullptr);
  if (bn == nullptr || BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(cert.get())) == nullptr) {
    BN_free(bn);
    return OpensslError("setting serial");
  }
  BN_free(bn);
  X509_gmtime_adj(X509_getm_notBefore(cert.get()), -300);  // tolerate small clock skew
  X509_gmtime_adj(X509_getm_notAfter(cert.get()), absl::ToInt64Seconds(validity));
  X509_NAME* name = X509_get_subject_name(cert.get());
  for (const std::string& o : orgs) {
    X509_NAME_add_entry_by_txt(name, "O", MBSTRING_UTF8,
                               reinterpret_cast<const unsigned char*>(o.c_str()), -1, -1, 0);
  }
  if (X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8,
                                 reinterpret_cast<const unsigned char*>(cn.c_str()), -1, -1,
                                 0) != 1) {
    return OpensslError("setting common name");
  }
  if (X509_set_pubkey(cert.get(), key) != 1) return OpensslError("setting public key");
  return cert;
}

}  // namespace

absl::StatusOr<KeyPair> GenerateCa(const std::string& common_name, absl::Duration validity) {
  auto key = NewKey();
  if (!key.ok()) return key.status();
  auto cert = NewCert(common_name, {}, key->get(), validity);
  if (!cert.ok()) return cert.status();
  X509* c = cert->get();
  if (X509_set_issuer_name(c, X509_get_subject_name(c)) != 1) return OpensslError("issuer");
  for (auto [nid, value] : {std::pair{NID_basic_constraints, "critical,CA:TRUE"},
                            std::pair{NID_key_usage, "critical,keyCertSign,cRLSign,digitalSignature"},
                            std::pair{NID_subject_key_identifier, "hash"}}) {
    if (absl::Status s = AddExtension(c, c, nid, value); !s.ok()) return s;
  }
  if (X509_sign(c, key->get(), EVP_sha256()) == 0) return OpensslError("signing CA");
  KeyPair out;
  auto cert_pem = ToPem(c);
  auto key_pem = ToPem(key->get());
  if (!cert_pem.ok()) return cert_pem.status();
  if (!key_pem.ok()) return key_pem.status();
  out.cert_pem = *std::move(cert_pem);
  out.key_pem = *std::move(key_pem);
  return out;
}

absl::StatusOr<KeyPair> IssueCert(const KeyPair& ca, const CertRequest& request) {
  Bio cert_bio(BIO_new_mem_buf(ca.cert_pem.data(), static_cast<int>(ca.cert_pem.size())));
  Cert ca_cert(PEM_read_bio_X509(cert_bio.get(), nullptr, nullptr, nullptr));
  if (!ca_cert) return absl::InvalidArgumentError("CA certificate is not valid PEM");
  Bio key_bio(BIO_new_mem_buf(ca.key_pem.data(), static_cast<int>(ca.key_pem.size())));
  PKey ca_key(PEM_read_bio_PrivateKey(key_bio.get(), nullptr, nullptr, nullptr));
  if (!ca_key) return absl::InvalidArgumentError("CA private key is not valid PEM");
  ERR_clear_error();

  auto key = NewKey();
  if (!key.ok()) return key.status();
  auto cert = NewCert(request.common_name, request.organizations, key->get(), request.validity);
  if (!cert.ok()) return cert.status();
  X509* c = cert->get();
  if (X509_set_issuer_name(c, X509_get_subject_name(ca_cert.get())) != 1) {
    return OpensslError("issuer");
  }
  std::vector<std::string> san;
  for (const std::string& d : request.dns_names) san.push_back("DNS:" + d);
  for (const std::string& ip : request.ip_addresses) {
    ASN1_OCTET_STRING* parsed = a2i_IPADDRESS(ip.c_str());
    ASN1_OCTET_STRING_free(parsed);
    if (parsed == nullptr) {
      return absl::InvalidArgumentError(absl::StrCat("\"", ip, "\" is not an IP address"));
    }
    san.push_back("IP:" + ip);
  }
  const char* eku = request.usage == CertUsage::kServer   ? "serverAuth"
                    : request.usage == CertUsage::kClient ? "clientAuth"
                                                          : "serverAuth,clientAuth";
  if (absl::Status s = AddExtension(c, ca_cert.get(), NID_basic_constraints, "critical,CA:FALSE");
      !s.ok()) {
    return s;
  }
  if (absl::Status s = AddExtension(c, ca_cert.get(), NID_key_usage,
                                    "critical,digitalSignature,keyEncipherment");
      !s.ok()) {
    return s;
  }
  if (absl::Status s = AddExtension(c, ca_cert.get(), NID_ext_key_usage, eku); !s.ok()) return s;
  if (!san.empty()) {
    if (absl::Status s = AddExtension(c, ca_cert.get(), NID_subject_alt_name, absl::StrJoin(san, ","));
        !s.ok()) {
      return s;
    }
  }
  if (X509_sign(c, ca_key.get(), EVP_sha256()) == 0) return OpensslError("signing certificate");
  KeyPair out;
  auto cert_pem = ToPem(c);
  auto key_pem = ToPem(key->get());
  if (!cert_pem.ok()) return cert_pem.status();
  if (!key_pem.ok()) return key_pem.status();
  out.cert_pem = *std::move(cert_pem);
  out.key_pem = *std::move(key_pem);
  return out;
}

}  // namespace kslice::envtest::pki
