#include "storage/types.h"

namespace on::storage {

std::string_view DefaultSlotModelType(std::string_view slot) {
  if (slot == "default_embedding_model") return "embedding";
  if (slot == "default_text_to_speech_model") return "text_to_speech";
  if (slot == "default_speech_to_text_model") return "speech_to_text";
  return "language";
}

std::optional<std::string> DefaultModels::ModelId(std::string_view slot) const {
  for (const auto& entry : slots) {
    if (entry.slot == slot) return entry.model_id;
  }
  return std::nullopt;
}

std::string DefaultModels::Updated(std::string_view slot) const {
  for (const auto& entry : slots) {
    if (entry.slot == slot) return entry.updated;
  }
  return "";
}

}  // namespace on::storage
