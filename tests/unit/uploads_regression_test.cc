// Regression tests for upload file names that the file_name fuzzer (tests/fuzz) found mishandled.
#include <gtest/gtest.h>

#include <string>

#include "ingest/uploads.h"

namespace on {
namespace {

TEST(UploadsRegression, SafeFileNameDropsC1Controls) {
  EXPECT_EQ(ingest::SafeFileName("a\xC2\x85" "b\xC2\x9F" "c.txt"), "abc.txt");  // U+0085, U+009F
  EXPECT_EQ(ingest::SafeFileName("\xC2\xA0x.txt"), "\xC2\xA0x.txt");            // U+00A0 is no control
}

// A removed control character separated a base letter from its combining mark, so the result
// was not NFC although uploads.h documents it as NFC.
TEST(UploadsRegression, SafeFileNameComposesAcrossRemovedControls) {
  EXPECT_EQ(ingest::SafeFileName("Cafe\x01\xCC\x81.txt"), "Caf\xC3\xA9.txt");
  EXPECT_EQ(ingest::SafeFileName("Cafe\xC2\x85\xCC\x81.txt"), "Caf\xC3\xA9.txt");
}

TEST(UploadsRegression, SafeFileNameIsIdempotent) {
  // Found by the fuzzer: invalid bytes, NULs, a backspace, then U+0301.
  const std::string input = std::string("ZZZZZZZZ") + std::string(33, '\xff') + std::string("\0\0\0\0C\0\0\0\x08\xCC\x81\0\0 ", 15);
  const std::string name = ingest::SafeFileName(input);
  EXPECT_EQ(ingest::SafeFileName(name), name);
  EXPECT_NE(name.find("\xC4\x86"), std::string::npos) << "C and U+0301 compose to U+0106";
}

TEST(UploadsRegression, NormalizeNfcReplacesInvalidUtf8) {
  EXPECT_EQ(ingest::NormalizeNfc("a\xff" "b"), "a\xEF\xBF\xBD" "b");
}

}  // namespace
}  // namespace on
