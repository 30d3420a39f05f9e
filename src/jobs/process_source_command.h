// Registration of the process_source command (see ingest/source_processor.h for what it does).
#pragma once

#include "jobs/builtin_commands.h"

namespace on::jobs {

// Registers open_notebook.process_source. `environment` must outlive the registry.
Status RegisterProcessSourceCommand(CommandRegistry& registry, const CommandEnvironment& environment);

}  // namespace on::jobs
