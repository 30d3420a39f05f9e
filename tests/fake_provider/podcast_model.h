// The fake provider's podcast "model": outline and transcript JSON for the prompts in
// prompts/podcast/, built from the lines those prompts contain. README.md describes the answers.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "fake_provider/text_model.h"

namespace on::fake {

// The outline or transcript answer when a system message asks for a podcast outline or
// transcript as JSON; nullopt for every other request.
std::optional<std::string> PodcastAnswer(const std::vector<Message>& messages);

}  // namespace on::fake
