// meta.json documents (SPEC §3): pure functions of a snapshot and the detail rows the
// catalog returned. Thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "store/rows.h"
#include "fs/snapshot.h"

namespace zenfs::meta {

// What the artifact source said about an output's files (no bytes read).
struct OutputFacts {
  bool available = false;
  std::string unavailable_reason;
  struct File {
    std::string path;  // relative to the output folder
    std::uint64_t size = 0;
  };
  std::vector<File> files;
  bool files_truncated = false;
  ArtifactDetail detail;  // empty when it could not be read
  // Per visualization of detail: where its bytes come from ("artifact store", "server"),
  // or why they cannot be read.
  std::vector<std::string> visualization_sources;
};

// The name of an output folder's folder of visualizations (fs/nodes/output.cc).
inline constexpr std::string_view kVisualizationsDir = "%visualizations";

// What the tree found of a step's or run's logs row, for meta.json's logs_available and
// logs_unavailable_reason (keyed by source).
struct LogFacts {
  std::string source;  // "step" for a step's own logs
  bool available = false;
  std::string unavailable_reason;
  std::string read_from;  // when available: "artifact store", or "server" (through it)
};

// Run metadata of one step, for the run's "<step>::<key>" entries.
struct StepMetadata {
  std::string step_name;
  std::vector<MetadataRow> rows;
};

// Pretty JSON, 2-space indent, trailing newline, ill-formed UTF-8 replaced by U+FFFD; at
// most kMaxMetaDocumentBytes (store/json_limits.h): the largest fields of a larger
// document are cut, each replaced by a note, and "zenfs_cut" lists them.
std::string Dump(const nlohmann::ordered_json& j);

// "8-4-4-4-12" for a 32-hex-digit id (ZenML's API form), the id unchanged otherwise.
std::string DashedId(std::string_view id);
// {"module": m, "attribute": a} -> "m.a"; a plain string as it is; "" -> null.
nlohmann::ordered_json ImportPath(const std::string& stored);
// {key: value}: values parsed from their JSON (text otherwise), the newest row winning.
nlohmann::ordered_json MetadataObject(const std::vector<MetadataRow>& rows);
// A step configuration's parameters ({} when there are none).
nlohmann::ordered_json StepParameters(const std::string& step_config_json);

std::string RenderRoot(const Snapshot& s, const std::string& store_path);
std::string RenderPipeline(const Snapshot& s, int pipeline);
std::string RenderRun(const Snapshot& s, int run, const RunDetail& detail,
                      const std::vector<StepMetadata>& step_metadata, const std::vector<LogFacts>& logs);
std::string RenderStep(const Snapshot& s, int step, const StepDetail& detail, const std::vector<LogFacts>& logs);
std::string RenderOutput(const Snapshot& s, int step, int output, const OutputFacts& facts);
// The meta.json of a version no step produced (%artifacts/<name>/<version>/): an output's
// fields, named by its version, `producer` null.
std::string RenderVersion(const Snapshot& s, int version, const OutputFacts& facts);

}  // namespace zenfs::meta
