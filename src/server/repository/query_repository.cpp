// Read-side SQL. Table and column names come from the family registry (never from the request)
// and are quoted; every value is a parameter. Rates: the last value of each bucket minus the
// previous bucket's, per second; a decrease, or a changed stats_reset, is a reset, after which the
// counter counts from zero.
#include "pganalytics/server/query_repository.hpp"

#include <fmt/format.h>

namespace pga::server::repo {
namespace {

std::string quoted(std::string_view identifier) { return "\"" + std::string(identifier) + "\""; }

std::string label_columns(const metrics::Family& family) {
  std::string out;
  for (const auto& c : family.columns)
    if (c.kind == metrics::ColumnKind::Key) out += ", " + quoted(c.name);
  return out;
}

std::string labels_json(const metrics::Family& family) {
  std::string out = family.scope == metrics::Scope::Instance ? "'instance', instance" : "'server_id', owner";
  for (const auto& c : family.columns)
    if (c.kind == metrics::ColumnKind::Key) out += fmt::format(", '{}', {}", c.name, quoted(c.name));
  return out;
}

std::string series_sql(const SeriesQuery& q) {
  const auto& family = *q.family;
  const bool rollup = q.step_seconds >= 3600 && family.has_hourly_rollup;
  const auto table = "pganalytics." + std::string(family.table) + (rollup ? "_1h" : "");
  const bool counter = q.column->kind == metrics::ColumnKind::Counter;
  const bool has_reset = family.find_column("stats_reset") != nullptr && (!rollup || counter);
  const auto keys = label_columns(family);
  const auto column = quoted(q.column->name);
  const auto from_clause =
      family.scope == metrics::Scope::Instance
          ? fmt::format("FROM {} m JOIN pganalytics.postgresql_instances i ON i.id = m.instance_id AND i.server_id = $1",
                        table)
          : fmt::format("FROM {} m WHERE m.server_id = $1", table);
  const auto where = family.scope == metrics::Scope::Instance ? "WHERE" : "AND";
  const auto value = counter ? fmt::format("(array_agg({}::double precision ORDER BY m.time DESC))[1]", column)
                             : fmt::format("avg({}::double precision)", column);
  const auto reset = has_reset ? "(array_agg(m.stats_reset ORDER BY m.time DESC))[1]" : "NULL::timestamptz";
  const auto instance = family.scope == metrics::Scope::Instance ? "i.name" : "NULL::text";
  const auto owner_column = family.scope == metrics::Scope::Instance ? "m.instance_id" : "m.server_id";
  const auto point =
      q.rate && counter
          ? std::string(
                "CASE WHEN prev_v IS NULL OR t = prev_t THEN NULL "
                "WHEN v < prev_v OR reset IS DISTINCT FROM prev_reset THEN v / extract(epoch FROM t - prev_t) "
                "ELSE (v - prev_v) / extract(epoch FROM t - prev_t) END")
          : std::string("v");
  return fmt::format(
      "WITH buckets AS ("
      " SELECT {owner_column} AS owner, {instance} AS instance{keys},"
      "  floor(extract(epoch FROM m.time) / $4) * $4 AS bucket, max(m.time) AS t, {value} AS v, {reset} AS reset"
      " {from_clause} {where} m.time >= to_timestamp($2) AND m.time < to_timestamp($3)"
      " GROUP BY owner, instance{keys}, bucket),"
      " points AS ("
      " SELECT *, lag(v) OVER w AS prev_v, lag(t) OVER w AS prev_t, lag(reset) OVER w AS prev_reset FROM buckets"
      " WINDOW w AS (PARTITION BY owner{keys} ORDER BY bucket)),"
      " series AS ("
      " SELECT json_build_object({labels}) AS labels,"
      "  json_agg(json_build_array(bucket, {point}) ORDER BY bucket) FILTER (WHERE ({point}) IS NOT NULL) AS points"
      " FROM points GROUP BY owner, instance{keys})"
      " SELECT json_build_object('series', coalesce(json_agg(json_build_object('labels', labels, 'points',"
      "  coalesce(points, '[]'::json))), '[]'::json))::text FROM series",
      fmt::arg("owner_column", owner_column), fmt::arg("instance", instance), fmt::arg("keys", keys),
      fmt::arg("value", value), fmt::arg("reset", reset),
      fmt::arg("from_clause", from_clause), fmt::arg("where", where), fmt::arg("labels", labels_json(family)),
      fmt::arg("point", point));
}

std::optional<std::string> visible_param(const VisibleServers& visible) {
  if (!visible) return std::nullopt;
  return db::id_array(*visible);
}

}  // namespace

// Each listing reads one row past the page to know whether more follow.
awaitable<ListedPage> list_collectors(db::AsyncConnection& conn, std::optional<std::string> collector_id,
                                      const VisibleServers& visible, const ListPage& page) {
  const auto after_name = page.after.empty() ? std::nullopt : std::optional(page.after[0]);
  const auto after_id = page.after.empty() ? std::nullopt : std::optional(page.after[1]);
  auto r = co_await conn.exec(
      "WITH page AS ("
      " SELECT c.*, row_number() OVER (ORDER BY c.name, c.id) AS n FROM ("
      "  SELECT * FROM pganalytics.collectors WHERE deleted_at IS NULL AND ($1::uuid IS NULL OR id = $1::uuid)"
      "  AND ($2::bigint[] IS NULL OR server_id = ANY ($2::bigint[]))"
      "  AND ($3::text IS NULL OR (name, id) > ($3::text, $4::uuid))"
      "  ORDER BY name, id LIMIT $5::bigint + 1) c)"
      " SELECT coalesce(json_agg(json_build_object("
      " 'id', id, 'name', name, 'hostname', hostname, 'server_id', server_id, 'status', status,"
      " 'agent_version', agent_version, 'enrolled_at', enrolled_at, 'last_seen_at', last_seen_at,"
      " 'last_seq', last_seq, 'missing_seq_count', missing_seq_count, 'config_version', config_version,"
      " 'certificate_expires_at', certificate_expires_at) ORDER BY n) FILTER (WHERE n <= $5), '[]'::json)::text,"
      " count(*) > $5, max(name) FILTER (WHERE n = $5), max(id::text) FILTER (WHERE n = $5) FROM page",
      collector_id, visible_param(visible), after_name, after_id, static_cast<std::int64_t>(page.limit));
  ListedPage listed{std::string(r.get(0, 0)), std::nullopt};
  if (r.get(0, 1) == "t") listed.next = std::vector<std::string>{std::string(r.get(0, 2)), std::string(r.get(0, 3))};
  co_return listed;
}

awaitable<ListedPage> list_servers(db::AsyncConnection& conn, std::optional<std::int64_t> server_id,
                                   const VisibleServers& visible, const ListPage& page) {
  const auto after = page.after.empty() ? std::nullopt : std::optional(page.after[0]);
  auto r = co_await conn.exec(
      "WITH page AS ("
      " SELECT s.*, row_number() OVER (ORDER BY s.id) AS n FROM ("
      "  SELECT * FROM pganalytics.servers WHERE ($1::bigint IS NULL OR id = $1::bigint)"
      "  AND ($2::bigint[] IS NULL OR id = ANY ($2::bigint[])) AND ($3::bigint IS NULL OR id > $3::bigint)"
      "  ORDER BY id LIMIT $4::bigint + 1) s)"
      " SELECT coalesce(json_agg(json_build_object("
      " 'id', s.id, 'hostname', s.hostname, 'name', s.display_name, 'created_at', s.created_at,"
      " 'last_seen_at', (SELECT max(c.last_seen_at) FROM pganalytics.collectors c WHERE c.server_id = s.id),"
      " 'instances', (SELECT coalesce(json_agg(json_build_object('id', i.id, 'name', i.name,"
      "   'server_version_num', i.server_version_num, 'in_recovery', i.in_recovery, 'last_seen_at', i.last_seen_at)"
      "   ORDER BY i.name), '[]'::json) FROM pganalytics.postgresql_instances i WHERE i.server_id = s.id)"
      " ) ORDER BY s.n) FILTER (WHERE s.n <= $4), '[]'::json)::text, count(*) > $4, max(s.id) FILTER (WHERE s.n = $4)"
      " FROM page s",
      server_id, visible_param(visible), after, static_cast<std::int64_t>(page.limit));
  ListedPage listed{std::string(r.get(0, 0)), std::nullopt};
  if (r.get(0, 1) == "t") listed.next = std::vector<std::string>{std::string(r.get(0, 2))};
  co_return listed;
}

awaitable<std::string> metric_series(db::AsyncConnection& conn, const SeriesQuery& query) {
  const auto sql = series_sql(query);
  auto r = co_await conn.exec(sql.c_str(), query.server_id, query.from_unix, query.to_unix, query.step_seconds);
  co_return std::string(r.get(0, 0));
}

}  // namespace pga::server::repo
