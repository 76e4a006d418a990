// `zenfs demo DIR`: writes a store in ZenML 0.74's own format, plus its artifact files.
#pragma once

#include <cstdint>
#include <string>

#include "store/status.h"

namespace zenfs {

struct DemoOptions {
  std::string dir;                 // becomes a ZenML config directory
  int runs = 5;                    // runs of example_pipeline (>= 5 keeps cached+failed)
  int steps = 2;                   // steps per example_pipeline run: step_1 -> step_2 -> ...
  int outputs = 1;                 // outputs per step ("output" when 1, else output_1..N)
  std::uint64_t artifact_bytes = 64ull << 20;  // the large artifact; 0 leaves it out
};

// Writes DIR/config.yaml, DIR/local_stores/default_zen_store/zenml.db (every table of
// ZenML 0.74, ids as 32 lowercase hex digits, times as "YYYY-MM-DD HH:MM:SS.ffffff" UTC,
// alembic version 0.74.0) and the artifact and log files under
// DIR/local_stores/<artifact-store-id-dashed>/. Contents are deterministic for the same
// options. Refuses (InvalidArgument) a DIR that already holds a zenml.db. Not thread-safe
// with respect to DIR.
Status WriteDemoStore(const DemoOptions& options);

}  // namespace zenfs
