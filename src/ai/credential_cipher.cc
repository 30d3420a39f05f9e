#include "ai/credential_cipher.h"

#include <sodium.h>

#include <cstdlib>
#include <vector>

namespace on::ai {
namespace {

// Domain-separation keys for BLAKE2b, so the encryption key and its fingerprint are unrelated
// hashes and neither equals a plain hash of the secret. Both must be 16 to 64 bytes.
constexpr std::string_view kKeyContext = "open-notebook credential encryption key v1";
constexpr std::string_view kVersionContext = "open-notebook credential key version v1";

void InitSodium() {
  // sodium_init is thread-safe and idempotent; it fails only when no randomness source exists.
  if (sodium_init() < 0) std::abort();
}

std::string ToBase64(const unsigned char* data, size_t size) {
  std::string text(sodium_base64_encoded_len(size, sodium_base64_VARIANT_ORIGINAL), '\0');
  sodium_bin2base64(text.data(), text.size(), data, size, sodium_base64_VARIANT_ORIGINAL);
  text.resize(text.size() - 1);  // drop the terminating NUL written by sodium_bin2base64
  return text;
}

std::optional<std::vector<unsigned char>> FromBase64(const std::string& text) {
  std::vector<unsigned char> bytes(text.size());
  size_t length = 0;
  if (sodium_base642bin(bytes.data(), bytes.size(), text.data(), text.size(), nullptr, &length, nullptr,
                        sodium_base64_VARIANT_ORIGINAL) != 0) {
    return std::nullopt;
  }
  bytes.resize(length);
  return bytes;
}

}  // namespace

Result<CredentialCipher> CredentialCipher::FromSecret(std::string_view secret) {
  if (secret.empty()) return InvalidInput("the encryption key is empty; set OPEN_NOTEBOOK_ENCRYPTION_KEY");
  InitSodium();

  CredentialCipher cipher;
  crypto_generichash(cipher.key_.data(), cipher.key_.size(), reinterpret_cast<const unsigned char*>(secret.data()),
                     secret.size(), reinterpret_cast<const unsigned char*>(kKeyContext.data()), kKeyContext.size());

  unsigned char fingerprint[8];
  crypto_generichash(fingerprint, sizeof(fingerprint), cipher.key_.data(), cipher.key_.size(),
                     reinterpret_cast<const unsigned char*>(kVersionContext.data()), kVersionContext.size());
  char hex[sizeof(fingerprint) * 2 + 1];
  sodium_bin2hex(hex, sizeof(hex), fingerprint, sizeof(fingerprint));
  cipher.key_version_ = hex;
  return cipher;
}

Result<std::optional<CredentialCipher>> CredentialCipher::FromSettings(const Settings& settings) {
  ON_ASSIGN_OR_RETURN(std::string secret, settings.ResolveEncryptionKey());
  if (secret.empty()) return std::optional<CredentialCipher>();
  ON_ASSIGN_OR_RETURN(CredentialCipher cipher, FromSecret(secret));
  sodium_memzero(secret.data(), secret.size());
  return std::optional<CredentialCipher>(std::move(cipher));
}

CredentialCipher::~CredentialCipher() { sodium_memzero(key_.data(), key_.size()); }

CredentialCipher::CredentialCipher(const CredentialCipher& other)
    : key_(other.key_), key_version_(other.key_version_) {}

CredentialCipher& CredentialCipher::operator=(const CredentialCipher& other) {
  key_ = other.key_;
  key_version_ = other.key_version_;
  return *this;
}

storage::SealedApiKey CredentialCipher::Seal(std::string_view plaintext, std::string_view associated_data) const {
  unsigned char nonce[crypto_aead_xchacha20poly1305_ietf_NPUBBYTES];
  randombytes_buf(nonce, sizeof(nonce));

  std::vector<unsigned char> ciphertext(plaintext.size() + crypto_aead_xchacha20poly1305_ietf_ABYTES);
  unsigned long long ciphertext_length = 0;
  crypto_aead_xchacha20poly1305_ietf_encrypt(
      ciphertext.data(), &ciphertext_length, reinterpret_cast<const unsigned char*>(plaintext.data()),
      plaintext.size(), reinterpret_cast<const unsigned char*>(associated_data.data()), associated_data.size(),
      nullptr, nonce, key_.data());

  return storage::SealedApiKey{ToBase64(ciphertext.data(), ciphertext_length), ToBase64(nonce, sizeof(nonce)),
                               key_version_};
}

Result<std::string> CredentialCipher::Open(const storage::SealedApiKey& sealed,
                                           std::string_view associated_data) const {
  if (sealed.key_version != key_version_) {
    return InvalidInput("the API key was encrypted with another encryption key (version " +
                        sealed.key_version.substr(0, 16) + ", current " + key_version_ +
                        "); restore that OPEN_NOTEBOOK_ENCRYPTION_KEY and run `open-notebook credentials "
                        "rotate-key`, or enter the API key again");
  }
  auto nonce = FromBase64(sealed.nonce);
  auto ciphertext = FromBase64(sealed.ciphertext);
  if (!nonce || !ciphertext || nonce->size() != crypto_aead_xchacha20poly1305_ietf_NPUBBYTES ||
      ciphertext->size() < crypto_aead_xchacha20poly1305_ietf_ABYTES) {
    return InvalidInput("the stored API key is damaged (invalid encoding); enter the API key again");
  }

  std::string plaintext(ciphertext->size() - crypto_aead_xchacha20poly1305_ietf_ABYTES, '\0');
  unsigned long long plaintext_length = 0;
  if (crypto_aead_xchacha20poly1305_ietf_decrypt(
          reinterpret_cast<unsigned char*>(plaintext.data()), &plaintext_length, nullptr, ciphertext->data(),
          ciphertext->size(), reinterpret_cast<const unsigned char*>(associated_data.data()), associated_data.size(),
          nonce->data(), key_.data()) != 0) {
    return InvalidInput("the stored API key failed authentication (it was changed, copied from another "
                        "credential, or encrypted with another key); enter the API key again");
  }
  plaintext.resize(plaintext_length);
  return plaintext;
}

}  // namespace on::ai
