// `zenfs demo DIR`: writes a store in ZenML's own format (0.74, 0.80 or the newest
// release, 0.97.0), plus its artifact and log files. What each schema's store holds is
// listed at the top of demo/demo_writer.cc.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "store/status.h"

namespace zenfs {

class S3Client;

// The ZenML database schema a demo store is written in (demo/schema/zenml-<version>.sql).
enum class DemoSchema {
  kZenml074,  // "0.74": workspaces, pipeline_deployment
  kZenml080,  // "0.80": projects (0.80.2)
  kLatest,    // "latest": ZenML 0.97.0, snapshots, step_configuration rows, nested runs, ...
};

// The spellings `zenfs demo --schema` accepts, in the order of DemoSchema.
inline constexpr std::string_view kDemoSchemaNames[] = {"0.74", "0.80", "latest"};

// The schema named `name` (one of kDemoSchemaNames), or nullopt.
std::optional<DemoSchema> ParseDemoSchema(std::string_view name);

struct DemoOptions {
  std::string dir;                 // becomes a ZenML config directory
  int runs = 5;                    // runs of example_pipeline (>= 5 keeps cached+failed)
  int steps = 2;                   // steps per example_pipeline run: step_1 -> step_2 -> ...
  int outputs = 1;                 // outputs per step ("output" when 1, else output_1..N)
  std::uint64_t artifact_bytes = 64ull << 20;  // the large artifact; 0 leaves it out
  DemoSchema schema = DemoSchema::kLatest;
  // `--artifact-store s3://BUCKET/PREFIX`: the artifact store component has the `s3` flavor
  // with this path (and client_kwargs.endpoint_url `s3_endpoint` when given), and the
  // artifact and log files are uploaded there through `s3` (the bucket is created) instead
  // of written under DIR. "" writes them under DIR.
  std::string artifact_store;
  std::string s3_endpoint;
  std::shared_ptr<S3Client> s3;
};

// Writes DIR/config.yaml, DIR/local_stores/default_zen_store/zenml.db (every table of the
// chosen ZenML schema, ids as 32 lowercase hex digits, times as "YYYY-MM-DD
// HH:MM:SS.ffffff" UTC, the schema's alembic version) and the artifact and log files under
// DIR/local_stores/<artifact-store-id-dashed>/. Contents are deterministic for the same
// options; example_pipeline and training_pipeline in the default project have the same
// ids, names, times and files in every schema. Refuses (InvalidArgument) a DIR that
// already holds a zenml.db. Not thread-safe with respect to DIR.
Status WriteDemoStore(const DemoOptions& options);

}  // namespace zenfs
