// Relation statistics read by oid, changed ones only: the statement, its parameters from what the
// agent knows, and the figures it returned kept for the cycles in which nothing changes.
#include "pganalytics/agent/collectors/relation_stats.hpp"

#include <fmt/format.h>

#include <charconv>
#include <cstdint>
#include <iterator>
#include <optional>
#include <stdexcept>

#include "pganalytics/agent/collectors/pg_session.hpp"

namespace pga::agent::collectors {
namespace {

// Timestamps come last (see RelationStat).
constexpr auto kFirstTimestamp = static_cast<std::size_t>(RelationStat::lastscan);

bool is_timestamp(std::size_t stat) { return stat >= kFirstTimestamp; }

// Each RelationStat, in enum order: its column name, which is also the name of the function that
// reads it (pg_stat_get_<name>) unless read_expression says otherwise, the first version that has
// it, and whether it is read of tables only (not of TOAST tables and indexes).
struct Read {
  const char* name;
  int since;
  bool tables_only;
};
constexpr Read kReads[] = {
    {"numscans", 0, false}, {"tuples_returned", 0, false}, {"tuples_fetched", 0, false},
    {"tuples_inserted", 0, true}, {"tuples_updated", 0, true}, {"tuples_deleted", 0, true},
    {"tuples_hot_updated", 0, true}, {"tuples_newpage_updated", 160000, true}, {"live_tuples", 0, true},
    {"dead_tuples", 0, true}, {"mod_since_analyze", 0, true}, {"ins_since_vacuum", 130000, true},
    {"vacuum_count", 0, true}, {"autovacuum_count", 0, true}, {"analyze_count", 0, true},
    {"autoanalyze_count", 0, true}, {"blocks_fetched", 0, false}, {"blocks_hit", 0, false},
    {"filenode", 0, false}, {"relfrozenxid", 0, true}, {"lastscan", 160000, false},
    {"last_vacuum_time", 0, true}, {"last_autovacuum_time", 0, true}, {"last_analyze_time", 0, true},
    {"last_autoanalyze_time", 0, true}};
static_assert(std::size(kReads) == kRelationStatCount);

// The SQL expression reading `stat` of the relation `u.id`; empty when the version or the kind of
// relation (`whole` is false for TOAST tables and indexes) does not have it.
std::string read_expression(std::size_t stat, int version, bool whole) {
  const auto& read = kReads[stat];
  if (version < read.since || (read.tables_only && !whole)) return "";
  switch (static_cast<RelationStat>(stat)) {
    // NULL once the relation is dropped or rewritten away: how a vanished relation shows.
    case RelationStat::filenode: return "pg_relation_filenode(u.id)::bigint";
    // Read for the rows returned only (see branch).
    case RelationStat::relfrozenxid: return "";
    default: return fmt::format("pg_stat_get_{}(u.id)", read.name);
  }
}

// The database's row: the catalog's highest oid and rows written, and age('3'::xid), from which
// the next transaction id follows (3 is the first normal one).
constexpr const char* kDatabaseRow =
    "(SELECT max(oid) FROM pg_catalog.pg_class)::bigint AS catalog_max_oid, (SELECT "
    "sum(pg_stat_get_tuples_inserted(c) + pg_stat_get_tuples_updated(c) + pg_stat_get_tuples_deleted(c)) FROM "
    "unnest(ARRAY['pg_catalog.pg_class'::regclass, 'pg_catalog.pg_index'::regclass, "
    "'pg_catalog.pg_namespace'::regclass]) c)::bigint AS catalog_writes, age('3'::xid)::bigint AS age_of_xid_3";
constexpr int kDatabaseColumns = 3;

// One branch of the statement: the relations of the arrays $`ids` and $`ids + 1`.
std::string branch(int version, bool whole, int ids) {
  std::string reads, integers, timestamps, selected;
  for (std::size_t i = 0; i < kRelationStatCount; ++i) {
    const auto expression = read_expression(i, version, whole);
    const std::string name = kReads[i].name;
    if (expression.empty()) {
      if (static_cast<RelationStat>(i) == RelationStat::relfrozenxid && whole)
        // A scalar subquery in the output list runs for the returned (changed) rows only; a
        // table's relfrozenxid moves only by VACUUM, which changes its counts.
        selected += ", (SELECT c.relfrozenxid::text::bigint FROM pg_class c WHERE c.oid = v.id) AS " + name;
      else
        selected += fmt::format(", NULL::{} AS {}", is_timestamp(i) ? "timestamptz" : "bigint", name);
      continue;
    }
    reads += fmt::format(", {} AS {}", expression, name);
    selected += ", v." + name;
    if (is_timestamp(i))
      timestamps += (timestamps.empty() ? "r." : ", r.") + name;
    else
      integers += (integers.empty() ? "r." : ", r.") + name;
  }
  selected += ", NULL::bigint, NULL::bigint, NULL::bigint";  // the database row's columns
  const auto seed =
      timestamps.empty() ? std::string("0") : "hash_array_extended(ARRAY[" + timestamps + "]::timestamptz[], 0)";
  // OFFSET 0 keeps the reads in their own subquery, so the hash and the output share them.
  return fmt::format(
      "SELECT v.id::bigint AS id, v.hash{selected} FROM (SELECT r.*, hash_array_extended(ARRAY[{integers}]::bigint[], "
      "{seed}) AS hash FROM (SELECT u.id, u.known{reads} FROM unnest(${ids}::oid[], ${known}::bigint[]) u (id, known) "
      "OFFSET 0) r) v WHERE v.hash IS DISTINCT FROM v.known",
      fmt::arg("selected", selected), fmt::arg("integers", integers), fmt::arg("seed", seed),
      fmt::arg("reads", reads), fmt::arg("ids", ids), fmt::arg("known", ids + 1));
}

std::int64_t integer_of(std::string_view text) {
  std::int64_t value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc{} || end != text.data() + text.size())
    throw std::runtime_error("relation statistics: \"" + std::string(text) + "\" is not an integer");
  return value;
}

}  // namespace

metrics::Cell RelationStats::operator[](RelationStat stat) const {
  const auto i = static_cast<std::size_t>(stat);
  if (is_timestamp(i)) {
    const auto& text = timestamps_[i - kFirstTimestamp];
    return text.empty() ? metrics::Cell{nullptr} : metrics::Cell{text};
  }
  return present_.test(i) ? metrics::Cell{integers_[i]} : metrics::Cell{nullptr};
}

const std::int64_t* RelationStats::integer(RelationStat stat) const {
  const auto i = static_cast<std::size_t>(stat);
  return !is_timestamp(i) && present_.test(i) ? &integers_[i] : nullptr;
}

std::string relation_stats_sql(int version) {
  std::string nulls;
  for (std::size_t i = 0; i < kRelationStatCount; ++i)
    nulls += fmt::format(", NULL::{} AS {}", is_timestamp(i) ? "timestamptz" : "bigint", kReads[i].name);
  return "SELECT NULL::bigint AS id, NULL::bigint AS hash" + nulls + ", " + kDatabaseRow + " UNION ALL " +
         branch(version, true, 1) + " UNION ALL " + branch(version, false, 3);
}

std::int64_t xid_age(std::uint32_t xid, std::uint32_t next_xid) {
  if (xid < 3) return INT32_MAX;
  return static_cast<std::int32_t>(next_xid - xid);
}

std::vector<db::Param> RelationStatsCache::parameters(const std::vector<std::int64_t>& tables,
                                                      const std::vector<std::int64_t>& others) const {
  std::vector<db::Param> params;
  for (const auto* ids : {&tables, &others}) {
    std::string hashes = "{";
    for (const auto id : *ids) {
      if (hashes.size() > 1) hashes += ',';
      const auto found = known_.find(id);
      hashes += found == known_.end() ? "NULL" : std::to_string(found->second.hash);
    }
    params.push_back(id_array(*ids));
    params.push_back(hashes + '}');
  }
  return params;
}

DatabaseStamp RelationStatsCache::absorb(const db::PgResult& changed) {
  constexpr int kColumns = static_cast<int>(kRelationStatCount) + 2 + kDatabaseColumns;
  if (changed.columns() != kColumns) throw std::logic_error("relation statistics: unexpected column count");
  std::optional<DatabaseStamp> stamp;
  for (int r = 0; r < changed.rows(); ++r) {
    if (changed.is_null(r, 0)) {
      const int at = kColumns - kDatabaseColumns;
      stamp = DatabaseStamp{std::string(changed.get(r, at)) + "/" + std::string(changed.get(r, at + 1)),
                            static_cast<std::uint32_t>(changed.get_int(r, at + 2) + 3)};
      continue;
    }
    Known known{integer_of(changed.get(r, 1)), {}};
    auto& stats = known.stats;
    for (std::size_t i = 0; i < kRelationStatCount; ++i) {
      const int column = static_cast<int>(i) + 2;
      if (changed.is_null(r, column)) continue;
      const auto text = changed.get(r, column);
      if (is_timestamp(i)) {
        stats.timestamps_[i - kFirstTimestamp] = rfc3339_from_iso(text);
      } else {
        stats.integers_[i] = integer_of(text);
        stats.present_.set(i);
      }
    }
    known_.insert_or_assign(integer_of(changed.get(r, 0)), std::move(known));
  }
  if (!stamp) throw std::logic_error("relation statistics: no database row");
  return *stamp;
}

const RelationStats* RelationStatsCache::find(std::int64_t oid) const {
  const auto found = known_.find(oid);
  return found == known_.end() ? nullptr : &found->second.stats;
}

void RelationStatsCache::retain(const std::set<std::int64_t>& oids) {
  std::erase_if(known_, [&](const auto& entry) { return !oids.contains(entry.first); });
}

void RelationStatsCache::forget_hashes() { known_.clear(); }

}  // namespace pga::agent::collectors
