// Reading a SQLite database the way a user would, through the plain C API, for tests of the
// database the sinks write.
#pragma once

#include <string>
#include <vector>

namespace lastack::test {

// The rows of `sql` on the database file at `path`, each as "a|b|c" (NULL as "NULL"). A
// database that cannot be opened or a query that cannot be prepared fails the test.
std::vector<std::string> sql_rows(const std::string& path, const std::string& sql);

// The first row of `sql`, or "<none>" when there is none.
std::string sql_scalar(const std::string& path, const std::string& sql);

}  // namespace lastack::test
