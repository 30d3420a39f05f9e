#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <set>
#include <thread>

#include "http/multipart.h"
#include "ingest/uploads.h"
#include "support/temp_dir.h"

namespace on {
namespace {

std::string Part(const std::string& headers, const std::string& data) {
  return "--XyZ\r\n" + headers + "\r\n\r\n" + data + "\r\n";
}

TEST(Multipart, ParsesFieldsAndFiles) {
  const std::string body = Part("Content-Disposition: form-data; name=\"type\"", "upload") +
                           Part("Content-Disposition: form-data; name=\"file\"; filename=\"a b.pdf\"\r\nContent-Type: application/pdf",
                                "%PDF-1.4\r\nbinary\r\n--not-a-boundary") +
                           "--XyZ--\r\n";
  auto parts = http::ParseMultipart(body, "XyZ");
  ASSERT_TRUE(parts.ok()) << parts.status().ToString();
  ASSERT_EQ(parts->size(), 2u);
  EXPECT_EQ((*parts)[0].name, "type");
  EXPECT_EQ((*parts)[0].data, "upload");
  EXPECT_EQ((*parts)[1].filename, "a b.pdf");
  EXPECT_EQ((*parts)[1].content_type, "application/pdf");
  EXPECT_EQ((*parts)[1].data, "%PDF-1.4\r\nbinary\r\n--not-a-boundary");
}

TEST(Multipart, PrefersRfc5987FileName) {
  const std::string body =
      Part("Content-Disposition: form-data; name=\"file\"; filename=\"fallback.pdf\"; filename*=UTF-8''%E7%AC%AC1%E7%BB%84%E8%B5%84%E6%96%99.pdf",
           "x") +
      "--XyZ--";
  auto parts = http::ParseMultipart(body, "XyZ");
  ASSERT_TRUE(parts.ok());
  EXPECT_EQ((*parts)[0].filename, "\xE7\xAC\xAC" "1\xE7\xBB\x84\xE8\xB5\x84\xE6\x96\x99.pdf");  // 第1组资料.pdf
}

TEST(Multipart, KeepsRawUtf8FileName) {
  const std::string name = "\xD8\xAA\xD9\x82\xD8\xB1\xD9\x8A\xD8\xB1.pdf";  // تقرير.pdf
  const std::string body = Part("Content-Disposition: form-data; name=\"file\"; filename=\"" + name + "\"", "x") + "--XyZ--";
  auto parts = http::ParseMultipart(body, "XyZ");
  ASSERT_TRUE(parts.ok());
  EXPECT_EQ((*parts)[0].filename, name);
}

TEST(Multipart, RejectsMalformedBodies) {
  EXPECT_FALSE(http::ParseMultipart("no boundary here", "XyZ").ok());
  EXPECT_FALSE(http::ParseMultipart("--XyZ\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nunterminated", "XyZ").ok());
  EXPECT_FALSE(http::ParseMultipart(Part("Content-Disposition: form-data", "x") + "--XyZ--", "XyZ").ok()) << "part without name";
  EXPECT_FALSE(http::MultipartBoundary("application/json").ok());
  EXPECT_EQ(*http::MultipartBoundary("multipart/form-data; boundary=\"abc\""), "abc");
}

TEST(Uploads, SafeFileNameStripsPaths) {
  EXPECT_EQ(ingest::SafeFileName("../../etc/passwd"), "passwd");
  EXPECT_EQ(ingest::SafeFileName("C:\\Users\\me\\report.pdf"), "report.pdf");
  EXPECT_EQ(ingest::SafeFileName(".."), "upload");
  EXPECT_EQ(ingest::SafeFileName("a\nb\x01.txt"), "ab.txt");
  EXPECT_LE(ingest::SafeFileName(std::string(500, 'x')).size(), 180u);
}

TEST(Uploads, SameNameUploadsAllKept) {
  test::TempDir dir;
  std::vector<std::thread> threads;
  std::mutex mutex;
  std::set<std::string> paths;
  for (int i = 0; i < 16; ++i) {
    threads.emplace_back([&, i] {
      auto stored = ingest::StoreUpload(dir.path(), "report.pdf", "content " + std::to_string(i));
      ASSERT_TRUE(stored.ok());
      std::lock_guard lock(mutex);
      paths.insert(*stored);
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(paths.size(), 16u);
  for (const auto& path : paths) EXPECT_TRUE(ingest::ResolveUpload(dir.path(), path).ok()) << path;
}

TEST(Uploads, ResolveRejectsEscapes) {
  test::TempDir dir;
  const auto uploads = dir.path() / "uploads";
  std::filesystem::create_directories(uploads);
  std::ofstream(dir.path() / "secret.txt") << "secret";
  std::filesystem::create_directories(dir.path() / "uploads-sibling");
  std::ofstream(dir.path() / "uploads-sibling" / "x.txt") << "x";
  std::filesystem::create_symlink(dir.path() / "secret.txt", uploads / "link.txt");

  EXPECT_EQ(ingest::ResolveUpload(uploads, "../secret.txt").status().code(), ErrorCode::kForbidden);
  EXPECT_EQ(ingest::ResolveUpload(uploads, (dir.path() / "secret.txt").string()).status().code(), ErrorCode::kForbidden);
  EXPECT_EQ(ingest::ResolveUpload(uploads, "../uploads-sibling/x.txt").status().code(), ErrorCode::kForbidden);
  EXPECT_EQ(ingest::ResolveUpload(uploads, "link.txt").status().code(), ErrorCode::kForbidden);
  EXPECT_EQ(ingest::ResolveUpload(uploads, "missing.txt").status().code(), ErrorCode::kNotFound);
}

TEST(Uploads, AttachmentDispositionKeepsUtf8) {
  const std::string disposition = ingest::AttachmentDisposition("\xE7\xAC\xAC" "1.pdf");
  EXPECT_NE(disposition.find("filename*=UTF-8''%E7%AC%AC1.pdf"), std::string::npos) << disposition;
  EXPECT_NE(disposition.find("filename=\"___1.pdf\""), std::string::npos) << disposition;
}

}  // namespace
}  // namespace on
