// EPUB 2 and 3: META-INF/container.xml names the package document (OPF), whose spine lists the
// content documents in reading order. Each XHTML document goes through the HTML extraction.
#include <set>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "ingest/format_extractors.h"
#include "ingest/office_xml.h"
#include "ingest/text_decoding.h"
#include "ingest/zip_reader.h"

namespace on::ingest {
namespace {

constexpr std::string_view kFormat = "EPUB";
constexpr const char* kContainerPart = "META-INF/container.xml";
constexpr const char* kEncryptionPart = "META-INF/encryption.xml";

// Books have at most a few hundred spine items; more is a malformed or hostile file.
constexpr size_t kMaxSpineItems = 10000;

struct ManifestItem {
  std::string path;
  std::string media_type;
};

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::string PercentDecode(std::string_view text) {
  std::string out;
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '%' && i + 2 < text.size() && HexValue(text[i + 1]) >= 0 &&
        HexValue(text[i + 2]) >= 0) {
      out += static_cast<char>(HexValue(text[i + 1]) * 16 + HexValue(text[i + 2]));
      i += 2;
    } else {
      out += text[i];
    }
  }
  return out;
}

// Resolves an href from a document in `base_directory` ("" or ending in '/') to an archive entry
// name. Returns "" for hrefs that leave the archive: URLs with a scheme and paths climbing above
// the root.
std::string ResolveHref(std::string_view base_directory, std::string_view href) {
  href = href.substr(0, href.find_first_of("#?"));
  if (href.empty() || href.find("://") != std::string_view::npos || href.starts_with("data:") ||
      href.starts_with("mailto:")) {
    return "";
  }
  std::string joined =
      href.starts_with("/") ? PercentDecode(href.substr(1))
                            : std::string(base_directory) + PercentDecode(href);

  std::vector<std::string_view> segments;
  std::string_view rest = joined;
  while (!rest.empty()) {
    const size_t slash = rest.find('/');
    const std::string_view segment = rest.substr(0, slash);
    rest = slash == std::string_view::npos ? std::string_view() : rest.substr(slash + 1);
    if (segment.empty() || segment == ".") continue;
    if (segment == "..") {
      if (segments.empty()) return "";
      segments.pop_back();
      continue;
    }
    segments.push_back(segment);
  }

  std::string path;
  for (const std::string_view segment : segments) {
    if (!path.empty()) path += '/';
    path += segment;
  }
  return path;
}

std::string DirectoryOf(const std::string& path) {
  const size_t slash = path.rfind('/');
  return slash == std::string::npos ? "" : path.substr(0, slash + 1);
}

Result<std::string> FindPackageDocument(ZipReader& zip) {
  ON_ASSIGN_OR_RETURN(std::string content, zip.Read(kContainerPart));
  pugi::xml_document container;
  ON_RETURN_IF_ERROR(ParseXmlPart(content, kFormat, kContainerPart, container));
  const pugi::xml_node rootfile = LocalDescendant(container, "rootfile");
  const std::string path = ResolveHref("", LocalAttribute(rootfile, "full-path"));
  if (path.empty()) {
    return InvalidInput("the EPUB container.xml names no package document (rootfile full-path)");
  }
  return path;
}

// Returns the content documents that META-INF/encryption.xml lists as encrypted. Font
// obfuscation (IDPF and Adobe algorithms) only scrambles fonts, so those entries are ignored.
std::set<std::string> FindEncryptedEntries(ZipReader& zip) {
  std::set<std::string> encrypted;
  if (!zip.Contains(kEncryptionPart)) return encrypted;
  Result<std::string> content = zip.Read(kEncryptionPart);
  pugi::xml_document xml;
  if (!content.ok() || !ParseXmlPart(*content, kFormat, kEncryptionPart, xml).ok()) {
    return encrypted;
  }
  for (const pugi::xml_node& data : xml.document_element().children()) {
    if (LocalName(data.name()) != "EncryptedData") continue;
    const std::string_view algorithm =
        LocalAttribute(LocalChild(data, "EncryptionMethod"), "Algorithm");
    if (algorithm == "http://www.idpf.org/2008/embedding" ||
        algorithm == "http://ns.adobe.com/pdf/enc#RC") {
      continue;
    }
    const pugi::xml_node reference = LocalDescendant(data, "CipherReference");
    encrypted.insert(ResolveHref("", LocalAttribute(reference, "URI")));
  }
  return encrypted;
}

bool IsHtmlMediaType(std::string_view media_type) {
  return media_type == "application/xhtml+xml" || media_type == "text/html";
}

struct Package {
  std::string title;
  std::vector<ManifestItem> spine;
};

Result<Package> ReadPackage(ZipReader& zip, const std::string& opf_path) {
  ON_ASSIGN_OR_RETURN(std::string content, zip.Read(opf_path));
  pugi::xml_document opf;
  ON_RETURN_IF_ERROR(ParseXmlPart(content, kFormat, opf_path, opf));
  const pugi::xml_node root = opf.document_element();

  Package package;
  const pugi::xml_node title = LocalDescendant(LocalChild(root, "metadata"), "title");
  package.title = NormalizeText(TrimAscii(title.text().get()));

  const std::string base = DirectoryOf(opf_path);
  std::unordered_map<std::string, ManifestItem> manifest;
  for (const pugi::xml_node& item : LocalChild(root, "manifest").children()) {
    if (LocalName(item.name()) != "item") continue;
    manifest[std::string(LocalAttribute(item, "id"))] =
        ManifestItem{ResolveHref(base, LocalAttribute(item, "href")),
                     std::string(LocalAttribute(item, "media-type"))};
  }

  for (const pugi::xml_node& reference : LocalChild(root, "spine").children()) {
    if (LocalName(reference.name()) != "itemref") continue;
    const auto item = manifest.find(std::string(LocalAttribute(reference, "idref")));
    if (item == manifest.end() || item->second.path.empty()) continue;
    if (package.spine.size() >= kMaxSpineItems) {
      return InvalidInput("the EPUB spine has more than " + std::to_string(kMaxSpineItems) +
                          " items");
    }
    package.spine.push_back(item->second);
  }
  return package;
}

}  // namespace

Result<ExtractedDocument> ExtractEpub(std::string_view bytes, const ExtractOptions& options) {
  ON_ASSIGN_OR_RETURN(ZipReader zip,
                      ZipReader::Open(bytes, std::string(kFormat), options.max_archive_entry_bytes));
  ON_ASSIGN_OR_RETURN(const std::string opf_path, FindPackageDocument(zip));
  ON_ASSIGN_OR_RETURN(Package package, ReadPackage(zip, opf_path));
  const std::set<std::string> encrypted = FindEncryptedEntries(zip);

  ExtractedDocument document;
  document.kind = DocumentKind::kEpub;
  document.title = package.title;
  for (const ManifestItem& item : package.spine) {
    if (!IsHtmlMediaType(item.media_type) || !zip.Contains(item.path)) continue;
    if (encrypted.count(item.path) > 0) {
      return InvalidInput("the EPUB is DRM-protected (" + item.path +
                          " is encrypted), so its text cannot be read; upload a DRM-free copy");
    }

    ON_ASSIGN_OR_RETURN(std::string chapter_bytes, zip.Read(item.path));
    const size_t budget = options.max_text_bytes - document.text.size();
    ON_ASSIGN_OR_RETURN(HtmlContent chapter, ExtractHtmlContent(chapter_bytes, "", budget));
    if (IsBlank(chapter.text)) continue;
    if (!document.text.empty()) document.text += '\n';
    if (document.text.size() + chapter.text.size() > options.max_text_bytes) {
      return TextTooLarge(options.max_text_bytes);
    }
    document.text += chapter.text;
    if (document.title.empty()) document.title = chapter.title;
  }
  return document;
}

}  // namespace on::ingest
