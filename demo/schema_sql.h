// ZenML 0.74's database schema (demo/schema/zenml-0.74.sql, as ZenML's own migrations
// leave it), embedded at build time.
#pragma once

namespace zenfs {
extern const char* const kZenml074SchemaSql;
}  // namespace zenfs
