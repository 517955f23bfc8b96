// SQL for storing push batches. Lists travel as one JSON parameter each, so every statement stays
// parameterised and one round trip whatever the batch holds; statements run on every batch are
// prepared once per connection, so PostgreSQL does not parse and plan them again each time.
#include <boost/json/array.hpp>
#include <boost/json/serialize.hpp>

#include "pganalytics/server/ingest_repository.hpp"

namespace pga::server::repo {

awaitable<void> create_partitions(AsyncConnection& conn, const std::string& day) {
  co_await conn.exec("SELECT pganalytics.create_partitions($1::date, $1::date)", day);
}

// One round trip for what used to be two. The insert reads `locked`, so the collector's row is
// locked before the batch record is claimed (and its foreign key checked): batches of one
// collector queue on that lock instead of upgrading a key-share lock into a deadlock.
awaitable<IngestingCollector> lock_and_claim(AsyncConnection& conn, const std::string& collector_id, std::int64_t seq,
                                             const std::string& sent_at, std::int64_t row_count) {
  auto r = co_await conn.exec_prepared(
      "WITH locked AS ("
      "  SELECT id, server_id, config_version FROM pganalytics.collectors WHERE id = $1::uuid FOR UPDATE), "
      "claimed AS ("
      "  INSERT INTO pganalytics.ingested_batches (collector_id, seq, sent_at, row_count) "
      "  SELECT id, $2::bigint, $3::timestamptz, $4::integer FROM locked ON CONFLICT DO NOTHING RETURNING seq) "
      "SELECT server_id, config_version, EXISTS (SELECT 1 FROM claimed) FROM locked",
      collector_id, seq, sent_at, row_count);
  if (r.rows() != 1) throw db::DbError("collector " + collector_id + " vanished while storing its batch");
  co_return IngestingCollector{r.get_int(0, 0), r.get_int(0, 1), r.get(0, 2) == "t"};
}

awaitable<std::map<std::string, std::int64_t>> resolve_instances(AsyncConnection& conn, std::int64_t server_id,
                                                                 const std::vector<std::string>& names) {
  boost::json::array list(names.begin(), names.end());
  // Sorted, so concurrent upserts of one server lock its instance rows in the same order.
  auto r = co_await conn.exec_prepared(
      "INSERT INTO pganalytics.postgresql_instances (server_id, name, last_seen_at) "
      "SELECT $1::bigint, n.name, now() FROM (SELECT DISTINCT value AS name FROM json_array_elements_text($2::json)) n "
      "ORDER BY n.name "
      "ON CONFLICT (server_id, name) DO UPDATE SET last_seen_at = excluded.last_seen_at RETURNING name, id",
      server_id, boost::json::serialize(list));
  std::map<std::string, std::int64_t> ids;
  for (int i = 0; i < r.rows(); ++i) ids.emplace(std::string(r.get(i, 0)), r.get_int(i, 1));
  co_return ids;
}

awaitable<std::vector<std::string>> unknown_instances(AsyncConnection& conn, std::int64_t server_id,
                                                      const std::vector<std::string>& names) {
  boost::json::array list(names.begin(), names.end());
  auto r = co_await conn.exec_prepared(
      "SELECT n.name FROM json_array_elements_text($2::json) n (name) "
      "WHERE NOT EXISTS (SELECT 1 FROM pganalytics.postgresql_instances i WHERE i.server_id = $1::bigint "
      "AND i.name = n.name) ORDER BY n.name",
      server_id, boost::json::serialize(list));
  std::vector<std::string> unknown;
  for (int i = 0; i < r.rows(); ++i) unknown.emplace_back(r.get(i, 0));
  co_return unknown;
}

awaitable<void> insert_query_texts(AsyncConnection& conn, std::int64_t server_id,
                                   const std::vector<ingest::QueryText>& texts) {
  boost::json::array list;
  for (const auto& text : texts) list.push_back(boost::json::array{text.instance, text.queryid, text.query});
  co_await conn.exec_prepared(
      "INSERT INTO pganalytics.query_texts (instance_id, queryid, query) "
      "SELECT i.id, (t->>1)::bigint, t->>2 FROM json_array_elements($2::json) t "
      "JOIN pganalytics.postgresql_instances i ON i.server_id = $1::bigint AND i.name = t->>0 "
      "ON CONFLICT (instance_id, queryid) DO NOTHING",
      server_id, boost::json::serialize(list));
}

awaitable<void> upsert_databases(AsyncConnection& conn, const std::vector<DatabaseName>& databases) {
  boost::json::array list;
  for (const auto& database : databases) list.push_back(boost::json::array{database.instance_id, database.datname});
  co_await conn.exec_prepared(
      "INSERT INTO pganalytics.databases (instance_id, datname, last_seen_at) "
      "SELECT (d->>0)::bigint, d->>1, now() FROM json_array_elements($1::json) d "
      "ON CONFLICT (instance_id, datname) DO UPDATE SET last_seen_at = excluded.last_seen_at",
      boost::json::serialize(list));
}

namespace {

std::string quoted_identifier(std::string_view name) { return "\"" + std::string(name) + "\""; }

// The COPY statement of a family: identifiers come from the registry, never from a request.
std::string copy_statement(const metrics::Family& family, std::span<const std::size_t> columns) {
  std::string sql = "COPY pganalytics." + quoted_identifier(family.table) + " (\"time\", ";
  sql += family.scope == metrics::Scope::Instance ? "instance_id" : "server_id";
  for (auto column : columns) sql += ", " + quoted_identifier(family.columns[column].name);
  return sql + ") FROM STDIN";
}

}  // namespace

awaitable<void> copy_rows(AsyncConnection& conn, const metrics::Family& family, std::span<const std::size_t> columns,
                          std::string_view data) {
  const auto sql = copy_statement(family, columns);
  co_await conn.copy_in(sql, data);
}

awaitable<std::int64_t> record_dropped_ranges(AsyncConnection& conn, const std::string& collector_id,
                                              const std::vector<ingest::SeqRange>& ranges) {
  boost::json::array list;
  for (const auto& range : ranges) list.push_back(boost::json::array{range.first, range.last});
  auto r = co_await conn.exec_prepared(
      "WITH added AS ("
      "  INSERT INTO pganalytics.collector_dropped_ranges (collector_id, first_seq, last_seq) "
      "  SELECT $1::uuid, (d->>0)::bigint, (d->>1)::bigint FROM json_array_elements($2::json) d "
      "  ON CONFLICT DO NOTHING RETURNING first_seq, last_seq) "
      "SELECT coalesce(sum(a.last_seq - a.first_seq + 1 - ("
      "  SELECT count(*) FROM pganalytics.ingested_batches b "
      "  WHERE b.collector_id = $1::uuid AND b.seq BETWEEN a.first_seq AND a.last_seq)), 0)::bigint "
      "FROM added a",
      collector_id, boost::json::serialize(list));
  co_return r.get_int(0, 0);
}

// The missing count moves by what this batch changes, so it costs the same after a year as on
// the first day: a jump past last_seq opens a gap, a late batch fills one (unless its seq was
// reported dropped, hence never counted), newly reported drops explain some.
awaitable<void> finish_batch(AsyncConnection& conn, const FinishedBatch& batch) {
  co_await conn.exec_prepared(
      "WITH seen AS ("
      "  UPDATE pganalytics.collectors c SET last_seen_at = now(), last_seq = greatest(c.last_seq, $2::bigint), "
      "    missing_seq_count = greatest(0, c.missing_seq_count + greatest(0, $2::bigint - c.last_seq - 1) "
      "      - CASE WHEN $2::bigint < c.last_seq AND NOT EXISTS ("
      "          SELECT 1 FROM pganalytics.collector_dropped_ranges d "
      "          WHERE d.collector_id = c.id AND $2::bigint BETWEEN d.first_seq AND d.last_seq) THEN 1 ELSE 0 END "
      "      - $3::bigint), "
      "    agent_version = $4, hostname = $5 "
      "  WHERE c.id = $1::uuid RETURNING c.server_id) "
      "UPDATE pganalytics.servers s SET last_seen_at = now() FROM seen WHERE s.id = seen.server_id",
      batch.collector_id, batch.seq, batch.explained_seqs, batch.agent_version, batch.hostname);
}

}  // namespace pga::server::repo
