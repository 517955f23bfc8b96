// The cumulative statistics of relations (tables, TOAST tables, indexes) read by oid, returned by
// PostgreSQL only for those that changed since the agent's last read, and kept by the agent.
#pragma once
#include <array>
#include <bitset>
#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "pganalytics/db/pg_connection.hpp"
#include "pganalytics/metrics/sample.hpp"

namespace pga::agent::collectors {

// One value per pg_stat_get_<name>(oid) function (with filenode = pg_relation_filenode and
// relfrozenxid from pg_class), in the order relation_stats_sql selects them. A value the server's
// version lacks, or that the relation's kind does not read, is NULL.
enum class RelationStat : std::size_t {
  numscans, tuples_returned, tuples_fetched, tuples_inserted, tuples_updated, tuples_deleted, tuples_hot_updated,
  tuples_newpage_updated, live_tuples, dead_tuples, mod_since_analyze, ins_since_vacuum, vacuum_count,
  autovacuum_count, analyze_count, autoanalyze_count, blocks_fetched, blocks_hit, filenode, relfrozenxid,
  // Timestamps, as RFC 3339 text.
  lastscan, last_vacuum_time, last_autovacuum_time, last_analyze_time, last_autoanalyze_time,
  count_
};
inline constexpr std::size_t kRelationStatCount = static_cast<std::size_t>(RelationStat::count_);

// One relation's figures, compactly: thousands are kept between cycles.
class RelationStats {
 public:
  metrics::Cell operator[](RelationStat stat) const;
  // The value of an integer figure, nullptr when NULL.
  const std::int64_t* integer(RelationStat stat) const;

 private:
  friend class RelationStatsCache;
  static constexpr std::size_t kIntegers = static_cast<std::size_t>(RelationStat::lastscan);
  std::array<std::int64_t, kIntegers> integers_{};
  std::bitset<kIntegers> present_;
  std::array<std::string, kRelationStatCount - kIntegers> timestamps_;  // RFC 3339, empty for NULL
};

// The statement: $1 the tables (oid[]), $2 their known hashes (bigint[], NULL when unknown), $3 the
// other relations (TOAST tables and indexes, of which only scans, tuples read and fetched, blocks
// and the file node are read), $4 their known hashes. It returns one row per relation whose
// figures hash differently from the known hash: id, hash, then the RelationStat values; and one
// row with a NULL id that describes the database (see DatabaseStamp) in three more columns.
std::string relation_stats_sql(int server_version_num);

// What tells that the kept objects or their names may have changed, and the transaction id
// age() counts from, read in the same statement as the figures.
struct DatabaseStamp {
  // A new relation shows at once as a new highest oid in pg_class (until oids wrap around); a
  // rename or a move to another schema as rows written to pg_class, pg_index or pg_namespace,
  // which reach the statistics when the writing backend flushes them (within seconds, or at the
  // end of its transaction block). A dropped relation shows at once through its own figures.
  std::string catalog;
  std::uint32_t next_xid = 0;
};

// age(xid) as PostgreSQL computes it from the next transaction id: permanent ids are infinitely old.
std::int64_t xid_age(std::uint32_t xid, std::uint32_t next_xid);

// The last figures read of each relation of one database, and their hashes. A hash covers every
// value of the row (hash_array_extended, 64 bits), so an unchanged relation costs PostgreSQL a few
// function calls and nothing on the wire. Two readings of a relation that differ yet hash alike
// would keep the older figures; PostgreSQL's int8 hash folds a value's two 32-bit halves
// together, so for one counter that takes an increase of exactly the wrong size across a multiple
// of 2^32, and it lasts until any figure of the relation moves again (or the full read that
// the collectors make every few minutes).
class RelationStatsCache {
 public:
  // relation_stats_sql's four parameters for reading `tables` and `others`.
  std::vector<db::Param> parameters(const std::vector<std::int64_t>& tables,
                                    const std::vector<std::int64_t>& others) const;
  // Records the rows of one read (the relations that changed) and returns its DatabaseStamp.
  DatabaseStamp absorb(const db::PgResult& changed);
  // The figures of `oid`, or nullptr when it was never read.
  const RelationStats* find(std::int64_t oid) const;
  // Forgets every relation not in `oids`.
  void retain(const std::set<std::int64_t>& oids);
  // The next read returns every relation, as if none had been read.
  void forget_hashes();

 private:
  struct Known {
    std::int64_t hash;
    RelationStats stats;
  };
  std::map<std::int64_t, Known> known_;
};

}  // namespace pga::agent::collectors
