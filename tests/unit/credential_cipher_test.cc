#include "ai/credential_cipher.h"

#include <gtest/gtest.h>

#include <fstream>

#include "support/temp_dir.h"

namespace on::ai {
namespace {

CredentialCipher MakeCipher(std::string_view secret) {
  auto cipher = CredentialCipher::FromSecret(secret);
  EXPECT_TRUE(cipher.ok()) << cipher.status().ToString();
  return std::move(cipher).value();
}

TEST(CredentialCipher, RoundTrip) {
  const CredentialCipher cipher = MakeCipher("correct horse battery staple");
  const storage::SealedApiKey sealed = cipher.Seal("sk-test-1234567890", "credential:a");
  EXPECT_EQ(sealed.key_version, cipher.key_version());
  EXPECT_EQ(sealed.ciphertext.find("sk-test"), std::string::npos);

  auto opened = cipher.Open(sealed, "credential:a");
  ASSERT_TRUE(opened.ok()) << opened.status().ToString();
  EXPECT_EQ(*opened, "sk-test-1234567890");
}

TEST(CredentialCipher, EmptyPlaintextRoundTrips) {
  const CredentialCipher cipher = MakeCipher("k");
  auto opened = cipher.Open(cipher.Seal("", "credential:a"), "credential:a");
  ASSERT_TRUE(opened.ok()) << opened.status().ToString();
  EXPECT_EQ(*opened, "");
}

TEST(CredentialCipher, FreshNoncePerSeal) {
  const CredentialCipher cipher = MakeCipher("k");
  const auto first = cipher.Seal("same", "credential:a");
  const auto second = cipher.Seal("same", "credential:a");
  EXPECT_NE(first.nonce, second.nonce);
  EXPECT_NE(first.ciphertext, second.ciphertext);
}

TEST(CredentialCipher, KeyVersionIsStablePerSecret) {
  EXPECT_EQ(MakeCipher("one").key_version(), MakeCipher("one").key_version());
  EXPECT_NE(MakeCipher("one").key_version(), MakeCipher("two").key_version());
  EXPECT_EQ(MakeCipher("one").key_version().size(), 16u);
}

TEST(CredentialCipher, WrongKeyIsRejectedByVersion) {
  const auto sealed = MakeCipher("old").Seal("secret", "credential:a");
  auto opened = MakeCipher("new").Open(sealed, "credential:a");
  ASSERT_FALSE(opened.ok());
  EXPECT_NE(opened.status().message().find("another encryption key"), std::string::npos);
}

TEST(CredentialCipher, WrongKeyFailsAuthentication) {
  // A forged key version gets past the fast check; the AEAD tag must still reject the wrong key.
  const CredentialCipher wrong = MakeCipher("new");
  auto sealed = MakeCipher("old").Seal("secret", "credential:a");
  sealed.key_version = wrong.key_version();
  auto opened = wrong.Open(sealed, "credential:a");
  ASSERT_FALSE(opened.ok());
  EXPECT_NE(opened.status().message().find("failed authentication"), std::string::npos);
}

TEST(CredentialCipher, SwappedRowsDetected) {
  const CredentialCipher cipher = MakeCipher("k");
  const auto sealed_for_a = cipher.Seal("key of a", "credential:a");
  auto opened = cipher.Open(sealed_for_a, "credential:b");
  ASSERT_FALSE(opened.ok());
  EXPECT_EQ(opened.status().code(), ErrorCode::kInvalidInput);
}

TEST(CredentialCipher, TamperedCiphertextDetected) {
  const CredentialCipher cipher = MakeCipher("k");
  auto sealed = cipher.Seal("secret value", "credential:a");
  // Flip one base64 digit in the middle of the ciphertext.
  char& digit = sealed.ciphertext[sealed.ciphertext.size() / 2];
  digit = digit == 'A' ? 'B' : 'A';
  EXPECT_FALSE(cipher.Open(sealed, "credential:a").ok());
}

TEST(CredentialCipher, TamperedNonceDetected) {
  const CredentialCipher cipher = MakeCipher("k");
  auto sealed = cipher.Seal("secret value", "credential:a");
  sealed.nonce[0] = sealed.nonce[0] == 'A' ? 'B' : 'A';
  EXPECT_FALSE(cipher.Open(sealed, "credential:a").ok());
}

TEST(CredentialCipher, DamagedEncodingRejected) {
  const CredentialCipher cipher = MakeCipher("k");
  auto sealed = cipher.Seal("secret value", "credential:a");
  sealed.ciphertext = "not base64 !!";
  auto opened = cipher.Open(sealed, "credential:a");
  ASSERT_FALSE(opened.ok());
  EXPECT_NE(opened.status().message().find("damaged"), std::string::npos);

  sealed = cipher.Seal("secret value", "credential:a");
  sealed.nonce = "AAAA";
  EXPECT_FALSE(cipher.Open(sealed, "credential:a").ok());
}

TEST(CredentialCipher, EmptySecretRejected) { EXPECT_FALSE(CredentialCipher::FromSecret("").ok()); }

TEST(CredentialCipher, FromSettings) {
  Settings settings;
  auto none = CredentialCipher::FromSettings(settings);
  ASSERT_TRUE(none.ok());
  EXPECT_FALSE(none->has_value());

  settings.encryption_key = "from env";
  auto from_env = CredentialCipher::FromSettings(settings);
  ASSERT_TRUE(from_env.ok());
  ASSERT_TRUE(from_env->has_value());
  EXPECT_EQ((*from_env)->key_version(), MakeCipher("from env").key_version());

  test::TempDir dir;
  const auto file = dir.path() / "key";
  std::ofstream(file) << "from file\n";
  settings.encryption_key.clear();
  settings.encryption_key_file = file.string();
  auto from_file = CredentialCipher::FromSettings(settings);
  ASSERT_TRUE(from_file.ok()) << from_file.status().ToString();
  ASSERT_TRUE(from_file->has_value());
  EXPECT_EQ((*from_file)->key_version(), MakeCipher("from file").key_version());

  settings.encryption_key_file = (dir.path() / "missing").string();
  auto missing = CredentialCipher::FromSettings(settings);
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.status().message().find("OPEN_NOTEBOOK_ENCRYPTION_KEY_FILE"), std::string::npos);
}

}  // namespace
}  // namespace on::ai
