#include "ingest/office_xml.h"

#include <cstring>

namespace on::ingest {

std::string_view LocalName(const char* qualified_name) {
  const std::string_view name(qualified_name);
  const size_t colon = name.find(':');
  return colon == std::string_view::npos ? name : name.substr(colon + 1);
}

std::string_view LocalAttribute(const pugi::xml_node& node, std::string_view name) {
  for (const pugi::xml_attribute& attribute : node.attributes()) {
    if (LocalName(attribute.name()) == name) return attribute.value();
  }
  return {};
}

pugi::xml_node LocalChild(const pugi::xml_node& node, std::string_view name) {
  for (const pugi::xml_node& child : node.children()) {
    if (child.type() == pugi::node_element && LocalName(child.name()) == name) return child;
  }
  return {};
}

pugi::xml_node LocalDescendant(const pugi::xml_node& node, std::string_view name) {
  pugi::xml_node current = node.first_child();
  while (current && current != node) {
    if (current.type() == pugi::node_element && LocalName(current.name()) == name) return current;
    if (current.first_child()) {
      current = current.first_child();
      continue;
    }
    while (current != node && !current.next_sibling()) current = current.parent();
    if (current == node) break;
    current = current.next_sibling();
  }
  return {};
}

Status ParseXmlPart(std::string_view content, std::string_view format, std::string_view entry,
                    pugi::xml_document& document) {
  const pugi::xml_parse_result result =
      document.load_buffer(content.data(), content.size(),
                           pugi::parse_default | pugi::parse_ws_pcdata_single);
  if (!result) {
    return InvalidInput("the " + std::string(format) + " part " + std::string(entry) +
                        " is not well-formed XML (" + result.description() + " at byte " +
                        std::to_string(result.offset) + ")");
  }
  return Status::Ok();
}

}  // namespace on::ingest
