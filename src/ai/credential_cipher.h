// Encryption of provider API keys at rest: libsodium XChaCha20-Poly1305 (IETF AEAD).
//
// The 32-byte key is BLAKE2b (crypto_generichash) of the operator's secret, so any string works
// as OPEN_NOTEBOOK_ENCRYPTION_KEY. Each sealed value carries a random 24-byte nonce and the key
// version, a fingerprint of the derived key, so a row sealed under another key is recognised
// without trying to decrypt it. The caller passes the credential id as associated data: a
// ciphertext copied into another row fails authentication instead of decrypting.
#pragma once

#include <array>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "core/error.h"
#include "core/settings.h"
#include "storage/types.h"

namespace on::ai {

class CredentialCipher {
 public:
  // Derives the key from `secret`; kInvalidInput when `secret` is empty.
  static Result<CredentialCipher> FromSecret(std::string_view secret);

  // The cipher for OPEN_NOTEBOOK_ENCRYPTION_KEY (or _FILE), or nullopt when neither is set.
  // kInvalidInput when the key file cannot be read.
  static Result<std::optional<CredentialCipher>> FromSettings(const Settings& settings);

  ~CredentialCipher();
  CredentialCipher(const CredentialCipher& other);
  CredentialCipher& operator=(const CredentialCipher& other);

  // 16 lowercase hex digits identifying the derived key; safe to store and log.
  const std::string& key_version() const { return key_version_; }

  // Encrypts `plaintext` bound to `associated_data` (the credential id) under a fresh nonce.
  storage::SealedApiKey Seal(std::string_view plaintext, std::string_view associated_data) const;

  // Decrypts a sealed value. kInvalidInput when it was sealed under another key version, when
  // its encoding is broken, or when authentication fails (wrong key, tampered ciphertext, or
  // associated data of another row). Messages never contain key material.
  Result<std::string> Open(const storage::SealedApiKey& sealed, std::string_view associated_data) const;

 private:
  CredentialCipher() = default;

  std::array<unsigned char, 32> key_{};
  std::string key_version_;
};

}  // namespace on::ai
