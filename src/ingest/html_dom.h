// Queries on a libxml2 HTML tree: element names and attributes, the boilerplate rules, and the
// search for content landmarks. Internal to src/ingest.
#pragma once

#include <libxml/tree.h>

#include <string>
#include <string_view>
#include <vector>

namespace on::ingest {

// Returns the lower-case tag name of an element (libxml2's HTML parser lower-cases it), or an
// empty view for other nodes.
std::string_view ElementName(const xmlNode* node);

// Returns the attribute's value, or an empty string when it is absent.
std::string Attribute(const xmlNode* element, const char* name);

// Returns the text of all descendants, without any white-space handling.
std::string ElementText(const xmlNode* element);

// True for elements that are not content. These are scripts, styles, embedded objects, forms,
// navigation, page headers and footers, side bars, hidden elements and ARIA landmarks other than
// main. Elements whose class or id marks navigation, menus, breadcrumbs, cookie banners, footers,
// sharing widgets or ads count too. Footnote <aside>s, and <header>s inside an <article>,
// <section> or <main>, are content.
bool IsBoilerplateElement(const xmlNode* element);

// Returns the line breaks to request around an element: 2 for paragraph-level blocks (p, h1-h6,
// pre, blockquote, table, dl, figure, ...), 1 for other blocks, 0 for inline elements.
int BlockBreaks(std::string_view name);

// Returns the number of the first item of an <ol> (its start attribute, default 1).
long ListStartNumber(const xmlNode* list);

// Returns <body>, or the root element when the document has no body.
const xmlNode* FindBody(const xmlDoc* doc);

// Returns the <main> and role="main" elements under `root` in document order, outside
// boilerplate elements.
std::vector<const xmlNode*> FindMainElements(const xmlNode* root);

// Returns the <article> elements under `root` that are not inside another article.
std::vector<const xmlNode*> FindTopLevelArticles(const xmlNode* root);

// Returns the first element named `name` under `root` (depth first), or nullptr.
const xmlNode* FindFirstElement(const xmlNode* root, std::string_view name);

}  // namespace on::ingest
