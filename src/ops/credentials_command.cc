#include "ops/credentials_command.h"

#include <cstdio>
#include <filesystem>

#include <spdlog/spdlog.h>

#include "ai/credential_cipher.h"
#include "ai/model_config.h"
#include "storage/storage.h"

namespace on::ops {
namespace {

// The key from the first line of `file`, or else from `fallback`; "" when neither is set.
Result<std::string> ReadKey(const std::string& file, const std::string& fallback, const char* option) {
  if (file.empty()) return fallback;
  Settings reader;
  reader.encryption_key_file = file;
  auto key = reader.ResolveEncryptionKey();
  if (!key.ok()) return InvalidInput(std::string(option) + ": " + key.status().message());
  return key;
}

struct Ciphers {
  ai::CredentialCipher old_key;
  ai::CredentialCipher new_key;
};

Result<Ciphers> LoadCiphers(const Settings& settings, const RotateKeyOptions& options) {
  ON_ASSIGN_OR_RETURN(std::string old_secret,
                      ReadKey(options.old_key_file, settings.encryption_key_old, "--old-key-file"));
  if (old_secret.empty()) {
    return InvalidInput("the old encryption key is missing: set OPEN_NOTEBOOK_ENCRYPTION_KEY_OLD or pass "
                        "--old-key-file FILE");
  }
  ON_ASSIGN_OR_RETURN(std::string configured, settings.ResolveEncryptionKey());
  ON_ASSIGN_OR_RETURN(std::string new_secret, ReadKey(options.new_key_file, configured, "--new-key-file"));
  if (new_secret.empty()) {
    return InvalidInput("the new encryption key is missing: set OPEN_NOTEBOOK_ENCRYPTION_KEY (or _FILE) or pass "
                        "--new-key-file FILE");
  }
  ON_ASSIGN_OR_RETURN(auto old_cipher, ai::CredentialCipher::FromSecret(old_secret));
  ON_ASSIGN_OR_RETURN(auto new_cipher, ai::CredentialCipher::FromSecret(new_secret));
  if (old_cipher.key_version() == new_cipher.key_version()) {
    return InvalidInput("the old and the new encryption key are the same; nothing to rotate");
  }
  return Ciphers{std::move(old_cipher), std::move(new_cipher)};
}

// What rotation will do with one credential's key: nullopt when the new key already opens it,
// otherwise the key sealed under the new key. An error when neither key opens it.
Result<std::optional<storage::SealedApiKey>> Reseal(const Ciphers& ciphers, const storage::Credential& credential) {
  if (credential.api_key->key_version == ciphers.new_key.key_version()) {
    auto current = ciphers.new_key.Open(*credential.api_key, credential.id);
    if (current.ok()) return std::optional<storage::SealedApiKey>();
  }
  auto plaintext = ciphers.old_key.Open(*credential.api_key, credential.id);
  if (!plaintext.ok()) {
    return InvalidInput("credential " + credential.id + " ('" + credential.name + "', " + credential.provider +
                        ") does not decrypt with the old key: " + plaintext.status().message());
  }
  return std::optional<storage::SealedApiKey>(ciphers.new_key.Seal(*plaintext, credential.id));
}

}  // namespace

int RunRotateKey(const Settings& settings, const RotateKeyOptions& options) {
  auto ciphers = LoadCiphers(settings, options);
  if (!ciphers.ok()) {
    std::fprintf(stderr, "%s\n", ciphers.status().message().c_str());
    return 1;
  }

  auto path = settings.SqlitePath();
  if (path.ok() && !std::filesystem::exists(*path)) {
    std::fprintf(stderr, "no database at %s: check OPEN_NOTEBOOK_DATA_DIR (or --data-dir)\n", path->c_str());
    return 1;
  }
  auto storage = storage::OpenStorage(settings);
  if (!storage.ok()) {
    std::fprintf(stderr, "cannot open the database: %s\n", storage.status().message().c_str());
    return 1;
  }
  if (Status schema = (*storage)->CheckSchema(); !schema.ok()) {
    std::fprintf(stderr, "%s\n", schema.message().c_str());
    return 1;
  }

  // Check every row first, so the report names all rows that block the rotation, not just one.
  auto credentials = (*storage)->ListCredentials(std::nullopt);
  if (!credentials.ok()) {
    std::fprintf(stderr, "cannot read credentials: %s\n", credentials.status().message().c_str());
    return 1;
  }
  int64_t with_key = 0, current = 0, failed = 0;
  for (const auto& credential : *credentials) {
    if (!credential.api_key) continue;
    ++with_key;
    auto resealed = Reseal(*ciphers, credential);
    if (!resealed.ok()) {
      std::fprintf(stderr, "%s\n", resealed.status().message().c_str());
      ++failed;
    } else if (!*resealed) {
      ++current;
    }
  }
  if (failed > 0) {
    std::fprintf(stderr, "rotation refused: %lld of %lld stored API keys do not decrypt with the old key; nothing was "
                         "changed. Check OPEN_NOTEBOOK_ENCRYPTION_KEY_OLD, or enter those keys again.\n",
                 static_cast<long long>(failed), static_cast<long long>(with_key));
    return 1;
  }
  if (options.dry_run) {
    std::printf("dry run: %lld API keys would be re-encrypted, %lld already use the new key, %lld credentials have "
                "no API key; nothing was changed\n",
                static_cast<long long>(with_key - current), static_cast<long long>(current),
                static_cast<long long>(credentials->size() - with_key));
    return 0;
  }

  // The transaction reads the rows again, so a credential saved since the check is covered too.
  auto changed = (*storage)->ResealApiKeys(
      [&](const storage::Credential& credential) { return Reseal(*ciphers, credential); });
  if (!changed.ok()) {
    std::fprintf(stderr, "rotation failed, nothing was changed: %s\n", changed.status().message().c_str());
    return 1;
  }
  spdlog::info("re-encrypted {} API keys with key version {}", *changed, ciphers->new_key.key_version());
  std::printf("re-encrypted %lld API keys to key version %s; %lld already used it; %lld credentials have no API key.\n"
              "Restart every open-notebook process with the new OPEN_NOTEBOOK_ENCRYPTION_KEY and remove the old key.\n",
              static_cast<long long>(*changed), ciphers->new_key.key_version().c_str(),
              static_cast<long long>(current), static_cast<long long>(credentials->size() - with_key));
  return 0;
}

}  // namespace on::ops
