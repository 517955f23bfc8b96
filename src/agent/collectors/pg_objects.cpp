// pg_stats_table and pg_stats_index: per database, the kept objects and their names come from a
// catalog read that is repeated only when the catalog changed; their statistics from one read by
// oid per cycle that returns the changed relations only (RelationStatsCache). Sizes are read for
// the objects whose size may have changed (SizeCache). A database that cannot be read is logged
// once and skipped, the others are still read.
#include "pganalytics/agent/collectors/pg_objects.hpp"

#include <algorithm>
#include <map>
#include <optional>
#include <set>

#include "pganalytics/agent/collectors/object_families.hpp"
#include "pganalytics/agent/collectors/object_sizes.hpp"
#include "pganalytics/agent/collectors/relation_stats.hpp"
#include "pganalytics/common/log.hpp"

namespace pga::agent::collectors {
namespace {

using namespace std::chrono_literals;
using Clock = SizeCache::Clock;

constexpr std::string_view kLockNotAvailable = "55P03";
// The catalog is read again at least this often, whatever the catalog's counters say: the cap's
// ranking moves with relpages and relfrozenxid, which VACUUM and ANALYZE update in place.
constexpr auto kCatalogMaxAge = 5min;
// How often every relation's statistics are read rather than the changed ones only.
constexpr auto kFullReadInterval = 10min;

// What one database's objects are known as, between cycles.
struct DatabaseObjects {
  std::vector<CatalogEntry> catalog;
  std::optional<std::string> catalog_stamp;  // DatabaseStamp::catalog read before the catalog was
  Clock::time_point catalog_read_at{};
  Clock::time_point full_read_at{};
  bool catalog_stale = true;
  RelationStatsCache stats;
  SizeCache sizes{kSizeMaxAge};
};

class PerDatabaseCollector : public Collector {
 public:
  PerDatabaseCollector(std::string family, std::unique_ptr<ObjectFamily> objects,
                       std::shared_ptr<DatabaseSessions> databases, Sizing sizing,
                       std::int64_t max_objects_per_database)
      : family_(std::move(family)),
        objects_(std::move(objects)),
        databases_(std::move(databases)),
        sizing_(std::move(sizing)),
        cap_(max_objects_per_database) {}
  const std::string& family() const override { return family_; }
  const std::string& instance() const override { return databases_->instance(); }

  boost::asio::awaitable<std::vector<metrics::Sample>> collect() override {
    const int version = co_await databases_->server_version_num();
    // The statement depends on the version only: built once per cycle, not per database.
    const auto stats_sql = relation_stats_sql(version);
    const auto names = co_await databases_->databases();
    const auto gone = [&](const std::string& name) { return std::find(names.begin(), names.end(), name) == names.end(); };
    std::erase_if(failing_, gone);
    std::erase_if(known_, [&](const auto& entry) { return gone(entry.first); });
    std::vector<metrics::Sample> samples;
    std::size_t failed = 0;
    std::string last_error;
    for (const auto& name : names) {
      std::optional<metrics::Sample> sample;
      try {
        auto reading = read_database(name, stats_sql);
        sample = co_await std::move(reading);
      } catch (const db::DbError& e) {
        last_error = log::redact(e.what());
        ++failed;
        if (failing_.insert(name).second)
          log::warn("{} {}: database \"{}\" is skipped until it can be read: {}", family_, instance(), name, last_error);
      }
      if (!sample) continue;
      if (failing_.erase(name) > 0) log::info("{} {}: database \"{}\" is read again", family_, instance(), name);
      if (!sample->rows.empty()) samples.push_back(std::move(*sample));
    }
    // Some databases read is a partial success; none at all is this collection failing.
    if (!names.empty() && failed == names.size())
      throw db::DbUnavailable("no database of the instance could be read (last error: " + last_error + ")");
    co_return samples;
  }

 private:
  // The statistics first, with the database's stamp; the catalog again when the stamp says it
  // changed (or is due), then the statistics of the objects it now lists. The stamp kept is one
  // read before the catalog, so a change in between is seen again, never missed.
  boost::asio::awaitable<metrics::Sample> read_database(const std::string& name, const std::string& stats_sql) {
    auto& known = known_[name];
    const auto now = Clock::now();
    if (now - known.full_read_at >= kFullReadInterval) {
      known.stats.forget_hashes();
      known.full_read_at = now;
    }
    auto at = std::chrono::system_clock::now();
    auto reading = read_statistics(name, stats_sql, known);
    auto stamp = co_await std::move(reading);
    if (known.catalog_stale || known.catalog_stamp != stamp.catalog || now - known.catalog_read_at >= kCatalogMaxAge) {
      auto listing = read_catalog(name, known);
      co_await std::move(listing);
      known.catalog_stamp = stamp.catalog;
      known.catalog_read_at = now;
      at = std::chrono::system_clock::now();
      auto rereading = read_statistics(name, stats_sql, known);
      stamp = co_await std::move(rereading);
    }

    metrics::Sample sample{family_, instance(), at, objects_->columns(), {}};
    std::vector<SizedObject> sized;
    for (const auto& entry : known.catalog) {
      auto composed = objects_->compose(name, entry, known.stats, stamp.next_xid);
      if (!composed) {
        known.catalog_stale = true;  // dropped since: the next cycle reads the catalog again
        continue;
      }
      sample.rows.push_back(std::move(composed->row));
      sized.push_back({entry.id, std::move(composed->size_fingerprint)});
    }
    auto sizing = attach_sizes(name, known.sizes, sized, sample);
    co_await std::move(sizing);
    co_return sample;
  }

  // The tables (read whole) and the other relations whose statistics make the rows of `catalog`.
  std::pair<std::vector<std::int64_t>, std::vector<std::int64_t>> relations_of(
      const std::vector<CatalogEntry>& catalog) const {
    std::vector<std::int64_t> tables, others;
    for (const auto& entry : catalog) objects_->relations_of(entry, tables, others);
    return {std::move(tables), std::move(others)};
  }

  boost::asio::awaitable<DatabaseStamp> read_statistics(const std::string& name, const std::string& stats_sql,
                                                        DatabaseObjects& known) {
    // A pair, not a structured binding: GCC 12 mishandles those across co_await.
    const auto relations = relations_of(known.catalog);
    auto reading = databases_->query(name, stats_sql, known.stats.parameters(relations.first, relations.second));
    const auto changed = co_await std::move(reading);
    co_return known.stats.absorb(changed);
  }

  boost::asio::awaitable<void> read_catalog(const std::string& name, DatabaseObjects& known) {
    std::vector<db::Param> params;
    params.push_back(std::to_string(cap_));
    auto reading = databases_->query(name, objects_->catalog_sql(), std::move(params));
    const auto catalog = co_await std::move(reading);
    known.catalog.clear();
    for (int r = 0; r < catalog.rows(); ++r) known.catalog.push_back(objects_->entry_of(catalog, r));
    const auto relations = relations_of(known.catalog);
    std::set<std::int64_t> kept(relations.first.begin(), relations.first.end());
    kept.insert(relations.second.begin(), relations.second.end());
    known.stats.retain(kept);
    known.catalog_stale = false;
  }

  // Sizes the objects due (SizeCache) and appends the size columns to every row of `sample`.
  boost::asio::awaitable<void> attach_sizes(const std::string& name, SizeCache& cache,
                                            const std::vector<SizedObject>& objects, metrics::Sample& sample) {
    const auto now = Clock::now();
    const auto due = cache.due(objects, now);
    std::optional<db::PgResult> sizes;
    if (!due.empty()) {
      std::vector<db::Param> params;
      params.push_back(id_array(due));
      try {
        auto reading = databases_->query(name, sizing_.sizes_sql, std::move(params));
        sizes.emplace(co_await std::move(reading));
      } catch (const db::DbError& error) {
        // Sizing opens each relation: one held by DDL (partition maintenance, ALTER) runs into
        // lock_timeout. The statistics still go out, with the sizes known so far; the objects
        // stay due and are sized at a later cycle.
        if (error.sqlstate() != kLockNotAvailable) throw;
      }
    }
    if (sizes) store_sizes(cache, *sizes, objects, now);
    append_sizes(sample, cache, objects, sizing_);
  }

  std::string family_;
  std::unique_ptr<ObjectFamily> objects_;
  std::shared_ptr<DatabaseSessions> databases_;
  Sizing sizing_;
  std::int64_t cap_;
  std::set<std::string> failing_;                 // databases whose failure was logged, until they are read again
  std::map<std::string, DatabaseObjects> known_;  // by database
};

}  // namespace

// pg_total_relation_size is by definition table + indexes: each file is looked at once, not twice.
// OFFSET 0 keeps the subquery whole, so the sum does not size everything again.
std::string pg_stats_table_sizes_sql() {
  return "SELECT s.relid::bigint, s.table_size AS table_size_bytes, s.indexes_size AS indexes_size_bytes, "
         "s.table_size + s.indexes_size AS total_size_bytes FROM (SELECT r.relid, pg_table_size(r.relid) AS "
         "table_size, pg_indexes_size(r.relid) AS indexes_size FROM unnest($1::oid[]) r (relid) OFFSET 0) s";
}

std::string pg_stats_index_sizes_sql() {
  return "SELECT r.relid::bigint, pg_relation_size(r.relid) AS index_size_bytes FROM unnest($1::oid[]) r (relid)";
}

CollectorPtr make_pg_stats_table(std::shared_ptr<DatabaseSessions> databases, std::int64_t max_objects_per_database) {
  Sizing sizing{pg_stats_table_sizes_sql(), {"table_size_bytes", "indexes_size_bytes", "total_size_bytes"}};
  return std::make_unique<PerDatabaseCollector>("pg_stats_table", make_table_family(),
                                                std::move(databases), std::move(sizing), max_objects_per_database);
}

CollectorPtr make_pg_stats_index(std::shared_ptr<DatabaseSessions> databases, std::int64_t max_objects_per_database) {
  Sizing sizing{pg_stats_index_sizes_sql(), {"index_size_bytes"}};
  return std::make_unique<PerDatabaseCollector>("pg_stats_index", make_index_family(),
                                                std::move(databases), std::move(sizing), max_objects_per_database);
}

}  // namespace pga::agent::collectors
