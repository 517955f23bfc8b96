// Sizing: fingerprints from a statistics result, the sizes read stored in the SizeCache, and the
// size columns appended to the sample the statistics became.
#include "pganalytics/agent/collectors/object_sizes.hpp"

#include <map>
#include <stdexcept>

namespace pga::agent::collectors {
namespace {

int column_of(const db::PgResult& result, std::string_view name) {
  for (int c = 0; c < result.columns(); ++c)
    if (result.column_name(c) == name) return c;
  throw std::logic_error("statement has no column " + std::string(name));
}

}  // namespace

std::vector<SizedObject> sized_objects(const db::PgResult& stats, const ResultFingerprint& fingerprint) {
  const auto id_at = column_of(stats, fingerprint.id_column);
  std::vector<int> fingerprint_at;
  for (const auto& column : fingerprint.columns) fingerprint_at.push_back(column_of(stats, column));
  std::vector<SizedObject> objects;
  objects.reserve(static_cast<std::size_t>(stats.rows()));
  for (int r = 0; r < stats.rows(); ++r) {
    std::string fingerprint;
    for (auto c : fingerprint_at) (fingerprint += stats.get(r, c)) += '/';
    objects.push_back({stats.get_int(r, id_at), std::move(fingerprint)});
  }
  return objects;
}

void store_sizes(SizeCache& cache, const db::PgResult& sizes, const std::vector<SizedObject>& objects,
                 SizeCache::Clock::time_point now) {
  std::map<std::int64_t, const std::string*> fingerprints;
  for (const auto& object : objects) fingerprints.emplace(object.id, &object.fingerprint);
  for (int r = 0; r < sizes.rows(); ++r) {
    const auto found = fingerprints.find(sizes.get_int(r, 0));
    if (found == fingerprints.end()) continue;
    std::vector<metrics::Cell> cells;
    for (int c = 1; c < sizes.columns(); ++c)
      cells.push_back(sizes.is_null(r, c) ? metrics::Cell{nullptr} : metrics::Cell{std::int64_t{sizes.get_int(r, c)}});
    cache.store(found->first, *found->second, std::move(cells), now);
  }
}

void append_sizes(metrics::Sample& sample, const SizeCache& cache, const std::vector<SizedObject>& objects,
                  const Sizing& sizing) {
  for (const auto& column : sizing.size_columns) sample.columns.push_back(column);
  for (std::size_t r = 0; r < sample.rows.size(); ++r) {
    const auto* known = cache.sizes(objects[r].id);
    for (std::size_t c = 0; c < sizing.size_columns.size(); ++c)
      sample.rows[r].push_back(known ? (*known)[c] : metrics::Cell{nullptr});
  }
}

}  // namespace pga::agent::collectors
