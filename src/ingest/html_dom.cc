#include "ingest/html_dom.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <charconv>

namespace on::ingest {
namespace {

// Deeper than libxml2's HTML parser ever nests (256), so the recursive searches stay bounded.
constexpr int kMaxSearchDepth = 300;

bool IsOneOf(std::string_view value, std::initializer_list<std::string_view> options) {
  return std::find(options.begin(), options.end(), value) != options.end();
}

bool ContainsAny(std::string_view value, std::initializer_list<std::string_view> parts) {
  return std::any_of(parts.begin(), parts.end(),
                     [value](std::string_view part) { return value.find(part) != value.npos; });
}

std::string AsciiLower(std::string_view text) {
  std::string lower(text);
  for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return lower;
}

// Elements that never hold readable content.
bool IsNonContentTag(std::string_view name) {
  return IsOneOf(name, {"script", "style", "noscript", "template", "svg", "nav", "form", "iframe",
                        "frame", "frameset", "object", "embed", "canvas", "button", "select",
                        "input", "textarea", "dialog", "audio", "video", "map", "head", "link",
                        "meta"});
}

// ARIA landmark and widget roles of everything around the main content.
bool IsNonContentRole(std::string_view role) {
  return IsOneOf(role, {"navigation", "banner", "contentinfo", "complementary", "menu", "menubar",
                        "search", "toolbar", "dialog", "alertdialog"});
}

// True for a lower-case word of a class or id that marks boilerplate. Class "mainNav" and class
// "main-nav" both give the words "main" and "nav".
bool IsBoilerplateWord(std::string_view word) {
  if (word.starts_with("nav") || word.ends_with("nav") || word.ends_with("menu")) return true;
  if (ContainsAny(word, {"sidebar", "breadcrumb", "navigation", "navbar", "cookie", "footer",
                         "masthead", "consent", "gdpr", "newsletter", "skiplink"})) {
    return true;
  }
  // "headerlink" is the permalink sign (a pilcrow) that Sphinx puts after every heading.
  return IsOneOf(word, {"menus", "menubar", "skip", "share", "sharing", "social", "ad", "ads",
                        "advert", "advertisement", "sponsored", "popup", "modal", "toolbar",
                        "pagination", "pager", "headerlink"});
}

bool HasBoilerplateMarker(std::string_view value) {
  std::string word;
  bool found = false;
  auto finish_word = [&word, &found] {
    if (!word.empty() && IsBoilerplateWord(word)) found = true;
    word.clear();
  };
  for (size_t i = 0; i < value.size(); ++i) {
    const auto c = static_cast<unsigned char>(value[i]);
    if (!std::isalnum(c)) {
      finish_word();
      continue;
    }
    const bool camel_case_boundary =
        std::isupper(c) && i > 0 && std::islower(static_cast<unsigned char>(value[i - 1]));
    if (camel_case_boundary) finish_word();
    word += static_cast<char>(std::tolower(c));
  }
  finish_word();
  return found;
}

std::string FirstRole(const xmlNode* element) {
  std::string role = AsciiLower(Attribute(element, "role"));
  const size_t space = role.find(' ');
  if (space != std::string::npos) role.resize(space);
  return role;
}

bool IsHidden(const xmlNode* element) {
  if (xmlHasProp(element, reinterpret_cast<const xmlChar*>("hidden")) != nullptr) return true;
  if (AsciiLower(Attribute(element, "aria-hidden")) == "true") return true;
  std::string style = AsciiLower(Attribute(element, "style"));
  style.erase(std::remove_if(style.begin(), style.end(), [](char c) { return c == ' '; }),
              style.end());
  return ContainsAny(style, {"display:none", "visibility:hidden"});
}

bool IsFootnote(const xmlNode* element) {
  const std::string markers = AsciiLower(Attribute(element, "class") + " " +
                                         Attribute(element, "id") + " " +
                                         Attribute(element, "epub:type") + " " + FirstRole(element));
  return ContainsAny(markers, {"footnote", "endnote"}) || FirstRole(element) == "note";
}

bool IsMainElement(const xmlNode* element) {
  return ElementName(element) == "main" || FirstRole(element) == "main";
}

bool HasContentAncestor(const xmlNode* element) {
  for (const xmlNode* node = element->parent; node != nullptr; node = node->parent) {
    if (node->type != XML_ELEMENT_NODE) continue;
    const std::string_view name = ElementName(node);
    if (name == "article" || name == "section" || IsMainElement(node)) return true;
  }
  return false;
}

bool IsHeading(std::string_view name) {
  return name.size() == 2 && name[0] == 'h' && name[1] >= '1' && name[1] <= '6';
}

// True when the subtree contains a content landmark (<main>, <article>, role="main") or a
// heading. Only <h1> counts when `any_heading` is false, and every level when it is true.
bool ContainsContentLandmark(const xmlNode* element, bool any_heading, int depth) {
  if (depth > kMaxSearchDepth) return false;
  for (const xmlNode* child = element->children; child != nullptr; child = child->next) {
    if (child->type != XML_ELEMENT_NODE) continue;
    const std::string_view name = ElementName(child);
    if (name == "h1" || (any_heading && IsHeading(name))) return true;
    if (name == "article" || IsMainElement(child)) return true;
    if (ContainsContentLandmark(child, any_heading, depth + 1)) return true;
  }
  return false;
}

// Class names are chosen for styling, so a marker in them is a strong sign. A layout wrapper such
// as "has-sidebar" is still kept when it contains the main heading or content. Ids are often
// slugs of a section's heading ("navigation", "sharing-data"), so an id marks only an element
// that is not a section and contains no heading at all.
bool HasBoilerplateClassOrId(const xmlNode* element) {
  if (HasBoilerplateMarker(Attribute(element, "class")) &&
      !ContainsContentLandmark(element, /*any_heading=*/false, 0)) {
    return true;
  }
  return ElementName(element) != "section" && HasBoilerplateMarker(Attribute(element, "id")) &&
         !ContainsContentLandmark(element, /*any_heading=*/true, 0);
}

bool IsStructuralElement(const xmlNode* element) {
  const std::string_view name = ElementName(element);
  return IsOneOf(name, {"html", "body", "main", "article"}) || IsMainElement(element);
}

template <typename Visit>
void VisitElements(const xmlNode* node, int depth, bool skip_boilerplate, const Visit& visit) {
  if (depth > kMaxSearchDepth) return;
  for (const xmlNode* child = node->children; child != nullptr; child = child->next) {
    if (child->type != XML_ELEMENT_NODE) continue;
    if (skip_boilerplate && IsBoilerplateElement(child)) continue;
    if (visit(child)) VisitElements(child, depth + 1, skip_boilerplate, visit);
  }
}

}  // namespace

std::string_view ElementName(const xmlNode* node) {
  if (node == nullptr || node->type != XML_ELEMENT_NODE || node->name == nullptr) return {};
  return reinterpret_cast<const char*>(node->name);
}

std::string Attribute(const xmlNode* element, const char* name) {
  xmlChar* value = xmlGetProp(element, reinterpret_cast<const xmlChar*>(name));
  if (value == nullptr) return {};
  std::string text(reinterpret_cast<const char*>(value));
  xmlFree(value);
  return text;
}

std::string ElementText(const xmlNode* element) {
  xmlChar* content = xmlNodeGetContent(element);
  if (content == nullptr) return {};
  std::string text(reinterpret_cast<const char*>(content));
  xmlFree(content);
  return text;
}

bool IsBoilerplateElement(const xmlNode* element) {
  const std::string_view name = ElementName(element);
  if (IsNonContentTag(name)) return true;
  if (name == "aside" && !IsFootnote(element)) return true;
  if (name == "footer") return true;
  if (name == "header" && !HasContentAncestor(element)) return true;
  if (IsHidden(element)) return true;

  const std::string role = FirstRole(element);
  if (IsNonContentRole(role)) return true;

  if (IsStructuralElement(element)) return false;
  return HasBoilerplateClassOrId(element);
}

int BlockBreaks(std::string_view name) {
  if (IsOneOf(name, {"p", "h1", "h2", "h3", "h4", "h5", "h6", "pre", "listing", "blockquote",
                     "table", "dl", "figure", "hr", "address", "fieldset", "details"})) {
    return 2;
  }
  if (IsOneOf(name, {"div", "section", "article", "main", "header", "footer", "nav", "aside",
                     "li", "dt", "dd", "tr", "td", "th", "caption", "figcaption", "summary",
                     "thead", "tbody", "tfoot", "body", "html", "center", "hgroup", "legend",
                     "dialog", "form", "option", "textarea"})) {
    return 1;
  }
  return 0;
}

long ListStartNumber(const xmlNode* list) {
  const std::string start = Attribute(list, "start");
  long number = 1;
  const auto [end, error] = std::from_chars(start.data(), start.data() + start.size(), number);
  if (error != std::errc() || end == start.data()) return 1;
  return std::clamp(number, -1'000'000'000L, 1'000'000'000L);
}

const xmlNode* FindBody(const xmlDoc* doc) {
  const xmlNode* root = xmlDocGetRootElement(doc);
  if (ElementName(root) == "body") return root;
  for (const xmlNode* child = root->children; child != nullptr; child = child->next) {
    if (ElementName(child) == "body") return child;
  }
  return root;
}

std::vector<const xmlNode*> FindMainElements(const xmlNode* root) {
  std::vector<const xmlNode*> found;
  VisitElements(root, 0, /*skip_boilerplate=*/true, [&found](const xmlNode* element) {
    if (!IsMainElement(element)) return true;
    found.push_back(element);
    return false;
  });
  return found;
}

std::vector<const xmlNode*> FindTopLevelArticles(const xmlNode* root) {
  std::vector<const xmlNode*> found;
  VisitElements(root, 0, /*skip_boilerplate=*/true, [&found](const xmlNode* element) {
    if (ElementName(element) != "article") return true;
    found.push_back(element);
    return false;
  });
  return found;
}

const xmlNode* FindFirstElement(const xmlNode* root, std::string_view name) {
  const xmlNode* found = nullptr;
  VisitElements(root, 0, /*skip_boilerplate=*/false, [&found, name](const xmlNode* element) {
    if (found == nullptr && ElementName(element) == name) found = element;
    return found == nullptr;
  });
  return found;
}

}  // namespace on::ingest
