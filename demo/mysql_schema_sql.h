// ZenML 0.74's MySQL DDL (demo/schema/zenml-0.74-mysql.sql: the CREATE TABLEs of the
// genuine MariaDB dump), embedded at build time for `zenfs demo --mysql`.
#pragma once

namespace zenfs {
extern const char* const kZenml074MysqlSchemaSql;
}  // namespace zenfs
