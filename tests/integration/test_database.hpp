// Access to the throwaway PostgreSQL of tests/integration/pg_harness.sh from C++ tests: the
// admin conninfo, and a fresh database per test.
#pragma once
#include <cstdlib>
#include <fstream>
#include <stdexcept>
#include <string>

#include "pganalytics/db/pg_connection.hpp"

namespace pga::test {

inline std::string harness_value(const std::string& name) {
  const char* state = std::getenv("PGA_TEST_PG_STATE");
  if (!state) throw std::runtime_error("PGA_TEST_PG_STATE is not set: run the integration tests through ctest");
  std::ifstream env(std::string(state) + "/env");
  for (std::string line; std::getline(env, line);)
    if (line.starts_with(name + "=")) return line.substr(name.size() + 1);
  throw std::runtime_error(name + " missing from the harness env file");
}

inline std::string database_url(const std::string& database) {
  return "postgresql://postgres@127.0.0.1:" + harness_value("PGA_TEST_PG_PORT") + "/" + database;
}

// Drops and creates `name`; returns its URL.
inline std::string fresh_database(const std::string& name) {
  auto admin = db::PgConnection::connect(database_url("postgres"));
  admin.exec_script("DROP DATABASE IF EXISTS \"" + name + "\" WITH (FORCE)");
  admin.exec_script("CREATE DATABASE \"" + name + "\"");
  return database_url(name);
}

}  // namespace pga::test
