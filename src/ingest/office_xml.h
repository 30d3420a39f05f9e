// pugixml helpers for the XML parts of DOCX and EPUB archives. pugixml does not process
// namespaces, so elements are matched by local name: documents may bind any prefix to the
// WordprocessingML, OPF or Dublin Core namespaces. Internal to src/ingest.
#pragma once

#include <pugixml.hpp>

#include <string>
#include <string_view>

#include "core/error.h"

namespace on::ingest {

// Returns the part of an element or attribute name after its prefix ("p" for "w:p").
std::string_view LocalName(const char* qualified_name);

// Returns the value of the first attribute whose local name is `name`, or "".
std::string_view LocalAttribute(const pugi::xml_node& node, std::string_view name);

// Returns the first child element with the local name, or an empty node.
pugi::xml_node LocalChild(const pugi::xml_node& node, std::string_view name);

// Returns the first descendant element with the local name in document order, or an empty node.
// Iterative, so deep nesting cannot exhaust the stack.
pugi::xml_node LocalDescendant(const pugi::xml_node& node, std::string_view name);

// Parses `content` (entry `entry` of a `format` archive) into `document`. Whitespace-only text is
// kept when it is the only child of an element, so that <w:t> </w:t> keeps its space. pugixml
// does not expand entities declared in a DTD, so entity-expansion bombs do not apply.
Status ParseXmlPart(std::string_view content, std::string_view format, std::string_view entry,
                    pugi::xml_document& document);

}  // namespace on::ingest
