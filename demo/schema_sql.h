// The database schema of each ZenML version `zenfs demo` can write, as ZenML leaves it
// (demo/schema/zenml-<version>.sql, provenance in each file's header), embedded at build
// time: CREATE statements plus the store's alembic_version row.
#pragma once

namespace zenfs {
extern const char* const kZenml074SchemaSql;     // zenml-0.74.sql
extern const char* const kZenml080SchemaSql;     // zenml-0.80.sql (0.80.2)
extern const char* const kZenmlLatestSchemaSql;  // zenml-0.97.0.sql
}  // namespace zenfs
