// The agent's check of collected samples: what the server would refuse is caught before the
// spool, with a message naming the family, row and column.
#include <doctest/doctest.h>

#include "pganalytics/metrics/sample_check.hpp"

using pga::metrics::Sample;
using pga::metrics::sample_problem;

namespace {
Sample locks_sample() {
  return Sample{"pg_locks", "main", std::chrono::system_clock::now(), {"datname", "locktype", "mode", "granted", "locks"},
                {{std::string("app"), std::string("relation"), std::string("AccessShareLock"), true, std::int64_t{3}}}};
}
}  // namespace

TEST_CASE("sample check: a sample the server takes passes") { CHECK_FALSE(sample_problem(locks_sample())); }

TEST_CASE("sample check: every kind of mistake is named") {
  auto sample = locks_sample();
  sample.rows[0][1] = nullptr;
  CHECK(sample_problem(sample) == "pg_locks row 0: key column locktype is NULL");

  sample = locks_sample();
  sample.rows[0][4] = std::string("3");
  CHECK(sample_problem(sample) == "pg_locks row 0: column locks holds a value of the wrong type");

  sample = locks_sample();
  sample.rows[0].pop_back();
  CHECK(sample_problem(sample) == "pg_locks row 0 has 4 cells for 5 columns");

  sample = locks_sample();
  sample.columns[4] = "lokcs";
  CHECK(sample_problem(sample) == "family pg_locks has no column \"lokcs\"");

  sample = locks_sample();
  sample.columns[4] = "mode";
  CHECK(sample_problem(sample) == "column pg_locks.mode appears twice");

  sample = locks_sample();
  sample.instance.clear();
  CHECK(sample_problem(sample) == "family pg_locks needs an instance");

  sample = locks_sample();
  sample.family = "pg_lock";
  CHECK(sample_problem(sample) == "unknown family \"pg_lock\"");
}

TEST_CASE("sample check: NULL in a non-key column and integers in float columns are fine") {
  Sample sample{"sysstat", "", std::chrono::system_clock::now(), {"load1", "cpu_steal"}, {{std::int64_t{1}, nullptr}}};
  CHECK_FALSE(sample_problem(sample));
  sample.instance = "main";
  CHECK(sample_problem(sample) == "family sysstat must not name an instance");
}
