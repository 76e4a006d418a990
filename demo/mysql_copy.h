// `zenfs demo DIR --mysql URL`: the demo store's metadata copied from its SQLite database
// into a MySQL/MariaDB database, in ZenML's own MySQL layout, so that the same store can be
// mounted from either (the SQLite one stays in DIR as the twin; artifacts and logs stay
// in DIR too, and the copied URIs are the same absolute paths into DIR).
#pragma once

#include <cstdint>
#include <string>

#include "store/mysql_database.h"
#include "store/status.h"

namespace zenfs {

// What a copy did, for the command's summary line.
struct MysqlCopyStats {
  int tables = 0;
  std::int64_t rows = 0;
  std::string ddl;  // "ZenML 0.74.0's MySQL DDL" or "translated from SQLite (0.80.2)"
};

// Connects to `target` (which must name a database) and checks that it can take a copy:
// the database exists and holds no ZenML store (no alembic_version table). Run it before
// writing anything, so that a wrong URL or a used database costs nothing. Errors name the
// URL without its password: NotFound (no such database), PermissionDenied (login
// refused), InvalidArgument (no database named, or a ZenML store already there), IOError.
Status CheckMysqlTarget(const MysqlConfig& target);

// Copies every table and every row of the ZenML SQLite database at `sqlite_path` into
// `target`. The tables are created first: for alembic version 0.74.0 with ZenML 0.74's own
// MySQL DDL (the genuine dump's CREATE TABLEs, demo/schema/zenml-0.74-mysql.sql); for any
// other version translated from the SQLite tables by ZenML's SQLAlchemy type rules for
// MySQL (see TranslateColumnType in mysql_copy.cc). Then the rows, in multi-row INSERTs,
// in one transaction; DATETIME values lose their fraction here (ZenML's MySQL times are
// whole seconds: MariaDB would truncate it but MySQL 8 rounds). Refuses a database that
// already holds any of the tables. On failure the tables it created are dropped again.
Status CopySqliteToMysql(const std::string& sqlite_path, const MysqlConfig& target,
                         MysqlCopyStats* stats = nullptr);

}  // namespace zenfs
