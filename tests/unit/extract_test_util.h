// Helpers for the extraction tests: fixture paths, file I/O and ZIP archives built with libzip.
#pragma once

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <zip.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

namespace on::ingest::test {

inline std::filesystem::path ExtractDataPath(const std::string& name) {
  return std::filesystem::path(ON_SOURCE_DIR) / "tests" / "data" / "extract" / name;
}

inline std::string ReadBytes(const std::filesystem::path& path) {
  std::ifstream file(path, std::ios::binary);
  std::stringstream content;
  content << file.rdbuf();
  return content.str();
}

inline void WriteBytes(const std::filesystem::path& path, const std::string& bytes) {
  std::ofstream file(path, std::ios::binary);
  file << bytes;
}

// Writes an executable shell script, used as a stand-in for pdftotext.
inline std::filesystem::path WriteScript(const std::filesystem::path& path,
                                         const std::string& body) {
  WriteBytes(path, "#!/bin/sh\n" + body + "\n");
  ::chmod(path.c_str(), 0755);
  return path;
}

struct ZipEntry {
  std::string name;
  std::string content;
  bool stored = false;  // no compression, as EPUB requires for "mimetype"
};

// Builds a ZIP archive at `path` with the entries in order and returns its bytes.
inline std::string WriteZip(const std::filesystem::path& path, const std::vector<ZipEntry>& entries) {
  int error = 0;
  zip_t* archive = zip_open(path.c_str(), ZIP_CREATE | ZIP_TRUNCATE, &error);
  EXPECT_NE(archive, nullptr) << "zip_open failed with " << error;
  if (archive == nullptr) return "";
  for (const ZipEntry& entry : entries) {
    zip_source_t* source =
        zip_source_buffer(archive, entry.content.data(), entry.content.size(), 0);
    const zip_int64_t index = zip_file_add(archive, entry.name.c_str(), source, ZIP_FL_ENC_UTF_8);
    EXPECT_GE(index, 0) << zip_strerror(archive);
    if (entry.stored) zip_set_file_compression(archive, static_cast<zip_uint64_t>(index), ZIP_CM_STORE, 0);
  }
  EXPECT_EQ(zip_close(archive), 0);
  return ReadBytes(path);
}

// Returns the parts of a minimal DOCX package whose body is `body_xml` (w:p, w:tbl ... elements).
// `title` goes into docProps/core.xml unless it is empty.
inline std::vector<ZipEntry> DocxEntries(const std::string& body_xml, const std::string& title) {
  std::vector<ZipEntry> entries = {
      {"[Content_Types].xml",
       R"(<?xml version="1.0" encoding="UTF-8"?>
<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">
<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>
<Default Extension="xml" ContentType="application/xml"/>
<Override PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/>
</Types>)"},
      {"_rels/.rels",
       R"(<?xml version="1.0" encoding="UTF-8"?>
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">
<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="word/document.xml"/>
<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/package/2006/relationships/metadata/core-properties" Target="docProps/core.xml"/>
</Relationships>)"},
      {"word/document.xml",
       R"(<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body>)" +
           body_xml + "<w:sectPr/></w:body></w:document>"},
  };
  if (!title.empty()) {
    entries.push_back({"docProps/core.xml",
                       R"(<?xml version="1.0" encoding="UTF-8"?>
<cp:coreProperties xmlns:cp="http://schemas.openxmlformats.org/package/2006/metadata/core-properties" xmlns:dc="http://purl.org/dc/elements/1.1/"><dc:title>)" +
                           title + "</dc:title></cp:coreProperties>"});
  }
  return entries;
}

// Returns the entry name in the archive of a chapter href relative to OEBPS/, undoing %20.
inline std::string EpubEntryName(std::string href) {
  for (size_t pos = href.find("%20"); pos != std::string::npos; pos = href.find("%20")) {
    href.replace(pos, 3, " ");
  }
  std::filesystem::path path = std::filesystem::path("OEBPS") / href;
  return path.lexically_normal().generic_string();
}

// Returns an XHTML content document for an EPUB.
inline std::string EpubChapter(const std::string& body) {
  return R"(<?xml version="1.0" encoding="UTF-8"?>
<html xmlns="http://www.w3.org/1999/xhtml"><head><title>chapter</title></head><body>)" +
         body + "</body></html>";
}

// Returns the parts of a minimal EPUB: mimetype, container.xml, OEBPS/content.opf with `title`,
// and `chapters` as (href relative to OEBPS/, XHTML) pairs. The manifest lists the chapters in reverse and
// the spine in the given order, so that a test can tell the two apart.
inline std::vector<ZipEntry> EpubEntries(
    const std::string& title, const std::vector<std::pair<std::string, std::string>>& chapters) {
  std::string manifest;
  std::string spine;
  for (size_t i = chapters.size(); i-- > 0;) {
    manifest += "<item id=\"c" + std::to_string(i) + "\" href=\"" + chapters[i].first +
                "\" media-type=\"application/xhtml+xml\"/>\n";
  }
  for (size_t i = 0; i < chapters.size(); ++i) {
    spine += "<itemref idref=\"c" + std::to_string(i) + "\"/>\n";
  }

  std::vector<ZipEntry> entries = {
      {"mimetype", "application/epub+zip", true},
      {"META-INF/container.xml",
       R"(<?xml version="1.0"?>
<container version="1.0" xmlns="urn:oasis:names:tc:opendocument:xmlns:container">
<rootfiles><rootfile full-path="OEBPS/content.opf" media-type="application/oebps-package+xml"/></rootfiles>
</container>)"},
      {"OEBPS/content.opf",
       R"(<?xml version="1.0" encoding="UTF-8"?>
<package xmlns="http://www.idpf.org/2007/opf" version="3.0" unique-identifier="id">
<metadata xmlns:dc="http://purl.org/dc/elements/1.1/"><dc:identifier id="id">test-book</dc:identifier><dc:title>)" +
           title + R"(</dc:title><dc:language>en</dc:language></metadata>
<manifest>
<item id="css" href="style.css" media-type="text/css"/>
)" + manifest + R"(</manifest>
<spine>
)" + spine + R"(</spine>
</package>)"},
      {"OEBPS/style.css", "body { margin: 0 }"},
  };
  for (const auto& [href, xhtml] : chapters) entries.push_back({EpubEntryName(href), xhtml});
  return entries;
}


}  // namespace on::ingest::test
