// The podcast generation job: outline and transcript from a language model, speech for each
// line, and one verified MP3 file under <data_dir>/podcasts/episodes/.
#pragma once

#include <filesystem>

#include "jobs/builtin_commands.h"
#include "jobs/command_registry.h"
#include "storage/storage.h"

namespace on::jobs {

// The job that generates an episode; storage::Storage::CreateEpisode adds "episode_id" to its
// input. One run only: a failed episode is run again with POST /api/podcasts/episodes/{id}/retry,
// while each line of speech is retried inside the run (OPEN_NOTEBOOK_PODCAST_SPEECH_ATTEMPTS).
storage::JobSpec PodcastJobSpec();

// The directory that episode audio paths are relative to: <data_dir>/podcasts.
std::filesystem::path PodcastsDirectory(const Settings& settings);

// Registers open_notebook.generate_podcast.
Status RegisterPodcastCommands(CommandRegistry& registry, const CommandEnvironment& environment);

}  // namespace on::jobs
