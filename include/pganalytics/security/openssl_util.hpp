// Owning handles and PEM conversions for OpenSSL objects, shared by the security sources.
// Every OpenSSL object lives in one of these handles; failures throw without secret material.
#pragma once
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <memory>
#include <string>
#include <string_view>

namespace pga::security::ossl {

template <auto Free>
struct Deleter {
  template <typename T>
  void operator()(T* p) const noexcept {
    Free(p);
  }
};
template <typename T, auto Free>
using Handle = std::unique_ptr<T, Deleter<Free>>;

using PKey = Handle<EVP_PKEY, EVP_PKEY_free>;
using PKeyCtx = Handle<EVP_PKEY_CTX, EVP_PKEY_CTX_free>;
using MdCtx = Handle<EVP_MD_CTX, EVP_MD_CTX_free>;
using CipherCtx = Handle<EVP_CIPHER_CTX, EVP_CIPHER_CTX_free>;
using Bio = Handle<BIO, BIO_free_all>;
using Bignum = Handle<BIGNUM, BN_free>;
using EcdsaSig = Handle<ECDSA_SIG, ECDSA_SIG_free>;
using Cert = Handle<X509, X509_free>;
using CertRequest = Handle<X509_REQ, X509_REQ_free>;
using Name = Handle<X509_NAME, X509_NAME_free>;
using Extension = Handle<X509_EXTENSION, X509_EXTENSION_free>;
using GeneralNames = Handle<GENERAL_NAMES, GENERAL_NAMES_free>;
using Asn1Integer = Handle<ASN1_INTEGER, ASN1_INTEGER_free>;
using Store = Handle<X509_STORE, X509_STORE_free>;
using StoreCtx = Handle<X509_STORE_CTX, X509_STORE_CTX_free>;

// Throws std::runtime_error naming the operation and OpenSSL's reason, and empties the thread's
// error queue so a stale entry cannot confuse a later TLS call on the same thread.
[[noreturn]] void fail(std::string_view operation);
// For failures that are an answer (bad signature, unparsable input), not an error.
void discard_errors() noexcept;

// Parsers return an empty handle for anything unparsable and never prompt for a passphrase.
PKey parse_private_key(std::string_view pem);
PKey parse_public_key(std::string_view pem);
Cert parse_certificate(std::string_view pem);
CertRequest parse_certificate_request(std::string_view pem);

std::string private_key_to_pem(EVP_PKEY* key);  // unencrypted PKCS#8
std::string public_key_to_pem(EVP_PKEY* key);   // SubjectPublicKeyInfo
std::string certificate_to_pem(X509* cert);
std::string certificate_request_to_pem(X509_REQ* req);

// A subject or issuer name holding only CN=<common_name>.
Name common_name(std::string_view common_name);

// The digest for X.509 and CSR signatures: SHA-256, or none for the EdDSA keys that hash internally.
const EVP_MD* signature_digest(const EVP_PKEY* key);
// "prime256v1" and the like for EC keys, empty otherwise.
std::string ec_group_name(const EVP_PKEY* key);

}  // namespace pga::security::ossl
