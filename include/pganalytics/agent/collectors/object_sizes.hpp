// How a family's sizes are read apart from its statistics, through a SizeCache: the statement that
// sizes the objects due, fingerprints taken from result columns, and the merge.
#pragma once
#include <string>
#include <vector>

#include "pganalytics/agent/collectors/size_cache.hpp"
#include "pganalytics/db/pg_connection.hpp"
#include "pganalytics/metrics/sample.hpp"

namespace pga::agent::collectors {

// `sizes_sql` takes the ids due as $1 (an oid[] literal, see id_array in pg_session.hpp) and
// returns each id followed by the sizes named `size_columns`. `min_interval` is SizeCache's.
struct Sizing {
  std::string sizes_sql;
  std::vector<std::string> size_columns;
  SizeCache::Clock::duration min_interval{};
};

// For a family whose statistics statement names each object by `id_column` and carries its
// fingerprint as `columns` (those not of the family are named with a leading '_' and never sent).
struct ResultFingerprint {
  std::string id_column;
  std::vector<std::string> columns;
};

// The objects of a statistics result, in its row order, with their fingerprints.
std::vector<SizedObject> sized_objects(const db::PgResult& stats, const ResultFingerprint& fingerprint);

// Records the result of `sizing.sizes_sql` under the fingerprints `objects` had when read.
void store_sizes(SizeCache& cache, const db::PgResult& sizes, const std::vector<SizedObject>& objects,
                 SizeCache::Clock::time_point now);

// Appends the size columns to `sample`, whose rows are those of `objects`: the last sizes read,
// NULL for an object never sized (its size read failed, or it vanished meanwhile).
void append_sizes(metrics::Sample& sample, const SizeCache& cache, const std::vector<SizedObject>& objects,
                  const Sizing& sizing);

}  // namespace pga::agent::collectors
