// SQL for storing push batches. Lists travel as one JSON parameter each, so every statement stays
// parameterised and one round trip whatever the group of batches holds; statements run on every batch are
// prepared once per connection, so PostgreSQL does not parse and plan them again each time.
#include <boost/json/array.hpp>
#include <boost/json/serialize.hpp>

#include "pganalytics/server/ingest_repository.hpp"

namespace pga::server::repo {

awaitable<void> create_partitions(AsyncConnection& conn, const std::string& day) {
  co_await conn.exec("SELECT pganalytics.create_partitions($1::date, $1::date)", day);
}

// Every batch of a group in one round trip. The collectors are locked first, in id order, so that
// two groups sharing collectors queue rather than deadlock; the insert reads `locked`, so a
// collector's row is locked before its batch records are claimed (and their foreign key checked):
// batches of one collector queue on that lock instead of upgrading a key-share lock into a deadlock.
awaitable<std::vector<IngestingCollector>> lock_and_claim(AsyncConnection& conn, const std::vector<BatchClaim>& claims) {
  boost::json::array list;
  for (const auto& claim : claims)
    list.push_back(boost::json::array{claim.collector_id, claim.seq, claim.sent_at, claim.row_count});
  const auto json = boost::json::serialize(list);
  auto r = co_await conn.exec_prepared(
      "WITH batch AS ("
      "  SELECT ord, (b->>0)::uuid AS collector_id, (b->>1)::bigint AS seq, (b->>2)::timestamptz AS sent_at, "
      "    (b->>3)::integer AS row_count FROM json_array_elements($1::json) WITH ORDINALITY AS t (b, ord)), "
      "locked AS ("
      "  SELECT id, server_id, config_version FROM pganalytics.collectors "
      "  WHERE id IN (SELECT collector_id FROM batch) ORDER BY id FOR UPDATE), "
      "claimed AS ("
      "  INSERT INTO pganalytics.ingested_batches (collector_id, seq, sent_at, row_count) "
      "  SELECT b.collector_id, b.seq, b.sent_at, b.row_count FROM batch b JOIN locked l ON l.id = b.collector_id "
      "  ON CONFLICT DO NOTHING RETURNING collector_id, seq) "
      "SELECT l.server_id, l.config_version, "
      "  EXISTS (SELECT 1 FROM claimed c WHERE c.collector_id = b.collector_id AND c.seq = b.seq) "
      "FROM batch b JOIN locked l ON l.id = b.collector_id ORDER BY b.ord",
      json);
  if (r.rows() != static_cast<int>(claims.size()))
    throw db::DbError("a collector vanished while storing its batch");
  std::vector<IngestingCollector> collectors;
  for (int i = 0; i < r.rows(); ++i) collectors.push_back({r.get_int(i, 0), r.get_int(i, 1), r.get(i, 2) == "t"});
  co_return collectors;
}

namespace {

boost::json::array instance_list(const std::vector<InstanceName>& names) {
  boost::json::array list;
  for (const auto& name : names) list.push_back(boost::json::array{name.server_id, name.name});
  return list;
}

}  // namespace

awaitable<std::map<InstanceName, std::int64_t>> resolve_instances(AsyncConnection& conn,
                                                                  const std::vector<InstanceName>& names) {
  // Sorted by the caller, so concurrent upserts lock instance rows in the same order.
  const auto json = boost::json::serialize(instance_list(names));
  auto r = co_await conn.exec_prepared(
      "INSERT INTO pganalytics.postgresql_instances (server_id, name, last_seen_at) "
      "SELECT (n->>0)::bigint, n->>1, now() FROM json_array_elements($1::json) n "
      "ON CONFLICT (server_id, name) DO UPDATE SET last_seen_at = excluded.last_seen_at RETURNING server_id, name, id",
      json);
  std::map<InstanceName, std::int64_t> ids;
  for (int i = 0; i < r.rows(); ++i) ids.emplace(InstanceName{r.get_int(i, 0), std::string(r.get(i, 1))}, r.get_int(i, 2));
  co_return ids;
}

awaitable<std::vector<InstanceName>> unknown_instances(AsyncConnection& conn, const std::vector<InstanceName>& names) {
  const auto json = boost::json::serialize(instance_list(names));
  auto r = co_await conn.exec_prepared(
      "SELECT (n->>0)::bigint, n->>1 FROM json_array_elements($1::json) n "
      "WHERE NOT EXISTS (SELECT 1 FROM pganalytics.postgresql_instances i WHERE i.server_id = (n->>0)::bigint "
      "AND i.name = n->>1)",
      json);
  std::vector<InstanceName> unknown;
  for (int i = 0; i < r.rows(); ++i) unknown.push_back({r.get_int(i, 0), std::string(r.get(i, 1))});
  co_return unknown;
}

awaitable<void> insert_query_texts(AsyncConnection& conn, const std::vector<ServerQueryText>& texts) {
  boost::json::array list;
  for (const auto& text : texts)
    list.push_back(boost::json::array{text.server_id, text.text->instance, text.text->queryid, text.text->query});
  const auto json = boost::json::serialize(list);
  co_await conn.exec_prepared(
      "INSERT INTO pganalytics.query_texts (instance_id, queryid, query) "
      "SELECT i.id, (t->>2)::bigint, t->>3 FROM json_array_elements($1::json) t "
      "JOIN pganalytics.postgresql_instances i ON i.server_id = (t->>0)::bigint AND i.name = t->>1 "
      "ON CONFLICT (instance_id, queryid) DO NOTHING",
      json);
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

awaitable<std::vector<InventoryCount>> inventory_counts(AsyncConnection& conn, const std::vector<std::int64_t>& server_ids) {
  auto r = co_await conn.exec_prepared(
      "SELECT s.id, "
      "  (SELECT count(*) FROM pganalytics.postgresql_instances i WHERE i.server_id = s.id), "
      "  (SELECT count(*) FROM pganalytics.databases d JOIN pganalytics.postgresql_instances i ON i.id = d.instance_id "
      "   WHERE i.server_id = s.id) "
      "FROM unnest($1::bigint[]) WITH ORDINALITY AS s (id, ord) ORDER BY s.ord",
      db::id_array(server_ids));
  std::vector<InventoryCount> counts;
  for (int i = 0; i < r.rows(); ++i) counts.push_back({r.get_int(i, 0), r.get_int(i, 1), r.get_int(i, 2)});
  co_return counts;
}

namespace {

std::string quoted_identifier(std::string_view name) { return "\"" + std::string(name) + "\""; }

// The COPY statement of a family: identifiers come from the registry, never from a request.
std::string copy_statement(const metrics::Family& family, std::span<const std::size_t> columns) {
  std::string sql = "COPY pganalytics." + quoted_identifier(family.table) + " (\"time\", ";
  sql += family.scope == metrics::Scope::Instance ? "instance_id" : "server_id";
  for (auto column : columns) sql += ", " + quoted_identifier(family.columns[column].name);
  return sql + ") FROM STDIN WITH (FORMAT binary)";
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
