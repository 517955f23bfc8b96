// Push batch validation: every rule of CONTRACT §5 refuses the whole batch with its own code and
// names the family, row and column at fault; valid batches come out encoded for COPY.
#include <doctest/doctest.h>

#include <boost/json.hpp>

#include <variant>

#include "pganalytics/agent/batch.hpp"
#include "pganalytics/metrics/query_text.hpp"
#include "pganalytics/net/http.hpp"
#include "pganalytics/server/ingest.hpp"

using namespace pga::server::ingest;
using namespace std::string_view_literals;
namespace json = boost::json;

namespace {

constexpr const char* kCollector = "0f8c2d1e-0000-4000-8000-000000000001";

json::object database_sample() {
  return {{"family", "pg_stats_database"},
          {"instance", "main"},
          {"at", "2026-11-24T12:00:00.123Z"},
          {"columns", {"datname", "stats_reset", "xact_commit", "blk_read_time", "xact_rollback"}},
          {"rows", {{"app", "2026-11-24T11:00:00+01:00", 1200, 1.5, 3}, {"po\tst\\gres", nullptr, 10, 2, nullptr}}}};
}

json::object sysstat_sample() {
  return {{"family", "sysstat"},
          {"at", "2026-11-24T12:00:00Z"},
          {"columns", {"cpu_user", "mem_total_bytes"}},
          {"rows", {{12.25, 8589934592}}}};
}

json::object valid_batch() {
  return {{"collector_id", kCollector},
          {"seq", 7},
          {"sent_at", "2026-11-24T12:00:01Z"},
          {"agent", {{"version", "0.1.0"}, {"hostname", "db01"}}},
          {"samples", {database_sample(), sysstat_sample()}},
          {"dropped", json::array{}}};
}

Batch parse(const json::object& batch, const Limits& limits = {}) {
  return parse_batch(json::serialize(batch), kCollector, limits);
}

struct Refusal {
  int status = 0;
  std::string code;
  std::string message;
};

Refusal refusal_of(std::string_view body, const Limits& limits = {}) {
  try {
    parse_batch(body, kCollector, limits);
  } catch (const pga::net::ApiError& error) {
    return {error.status(), error.code(), error.what()};
  }
  return {200, "accepted", ""};
}

Refusal refusal_of(const json::object& batch, const Limits& limits = {}) {
  return refusal_of(json::serialize(batch), limits);
}

// The batch with `field` of sample `index` replaced.
json::object with_sample_field(std::size_t index, std::string_view field, json::value value) {
  auto batch = valid_batch();
  batch["samples"].as_array()[index].as_object()[field] = std::move(value);
  return batch;
}

struct At {
  const char* rfc3339;
};
using Cell = std::variant<std::nullptr_t, std::int64_t, double, bool, std::string_view, At>;

// Checks that `sample` holds `rows`, each cell encoded by the field encoder of its type (checked
// against PostgreSQL's binary format in ingest_copy_test.cpp).
void check_rows(const Sample& sample, std::initializer_list<std::initializer_list<Cell>> rows) {
  std::string fields;
  std::vector<std::size_t> ends;
  for (const auto& row : rows) {
    for (const auto& cell : row) {
      std::visit(
          [&fields](const auto& value) {
            using T = std::decay_t<decltype(value)>;
            if constexpr (std::is_same_v<T, std::nullptr_t>) append_null_field(fields);
            else if constexpr (std::is_same_v<T, std::int64_t>) append_int64_field(fields, value);
            else if constexpr (std::is_same_v<T, double>) append_float64_field(fields, value);
            else if constexpr (std::is_same_v<T, bool>) append_bool_field(fields, value);
            else if constexpr (std::is_same_v<T, std::string_view>) append_text_field(fields, value);
            else append_timestamp_field(fields, parse_rfc3339(value.rfc3339).value());
          },
          cell);
    }
    ends.push_back(fields.size());
  }
  CHECK(sample.row_ends == ends);
  CHECK(sample.fields == fields);
}

void check_refused(const Refusal& refusal, int status, std::string_view code,
                   std::initializer_list<std::string_view> named = {}) {
  CHECK(refusal.status == status);
  CHECK(refusal.code == code);
  for (auto name : named) CHECK_MESSAGE(refusal.message.find(name) != std::string::npos, refusal.message, " lacks ", name);
}

}  // namespace

TEST_CASE("a valid batch comes out with its rows encoded in registry column order") {
  const auto batch = parse(valid_batch());
  CHECK(batch.seq == 7);
  CHECK(batch.sent_at_us == *parse_rfc3339("2026-11-24T12:00:01Z"));
  CHECK(batch.agent_version == "0.1.0");
  CHECK(batch.agent_hostname == "db01");
  REQUIRE(batch.families.size() == 2);
  REQUIRE(batch.samples.size() == 2);
  const auto& database = batch.families[batch.samples[0].family_slot];
  CHECK(database.family->name == "pg_stats_database");
  std::vector<std::string_view> names;
  for (auto c : database.columns) names.push_back(database.family->columns[c].name);
  CHECK(names == std::vector<std::string_view>{"datname", "xact_commit", "xact_rollback", "blk_read_time", "stats_reset"});
  CHECK(batch.samples[0].instance == "main");
  CHECK(batch.samples[0].at_us == *parse_rfc3339("2026-11-24T12:00:00.123Z"));
  CHECK(batch.samples[0].row_count() == 2);
  // xact_commit, xact_rollback and blk_read_time: the integer 2 of a double column is a double.
  check_rows(batch.samples[0], {{"app"sv, std::int64_t{1200}, std::int64_t{3}, 1.5, At{"2026-11-24T10:00:00Z"}},
                                {"po\tst\\gres"sv, std::int64_t{10}, nullptr, 2.0, nullptr}});
  CHECK(batch.samples[0].datnames == std::vector<std::string>{"app", "po\tst\\gres"});
  // The inventory reads datname from every row: it must stay a key column (present, never null).
  CHECK(pga::metrics::find_family("pg_stats_database")->find_column("datname")->kind == pga::metrics::ColumnKind::Key);
  CHECK(batch.samples[1].instance.empty());
  check_rows(batch.samples[1], {{12.25, std::int64_t{8589934592}}});
  CHECK(batch.row_count() == 3);
  CHECK(batch.dropped.empty());
}

TEST_CASE("samples of one family with different columns share one column list, absent ones null") {
  auto batch = valid_batch();
  batch["samples"] = {
      {{"family", "pg_stats_database"}, {"instance", "a"}, {"at", "2026-11-24T12:00:00Z"},
       {"columns", {"xact_commit", "datname"}}, {"rows", {{1, "x"}}}},
      {{"family", "pg_stats_database"}, {"instance", "b"}, {"at", "2026-11-24T12:00:00Z"},
       {"columns", {"datname", "xact_rollback"}}, {"rows", json::array{json::array{"y", 2}}}}};
  const auto parsed = parse(batch);
  REQUIRE(parsed.families.size() == 1);
  CHECK(parsed.families[0].columns.size() == 3);
  check_rows(parsed.samples[0], {{"x"sv, std::int64_t{1}, nullptr}});
  check_rows(parsed.samples[1], {{"y"sv, nullptr, std::int64_t{2}}});
}

TEST_CASE("the body must be a JSON object") {
  check_refused(refusal_of(std::string_view("{\"seq\":")), 400, "bad_json");
  check_refused(refusal_of(std::string_view("[1,2]")), 400, "bad_json");
  check_refused(refusal_of(std::string_view("")), 400, "bad_json");
  check_refused(refusal_of(std::string_view("{\"a\":\"\xff\"}")), 400, "bad_json");
}

TEST_CASE("a batch naming another collector is a 403") {
  auto batch = valid_batch();
  batch["collector_id"] = "0f8c2d1e-0000-4000-8000-000000000002";
  check_refused(refusal_of(batch), 403, "identity_mismatch");
}

TEST_CASE("the header fields are checked") {
  for (json::value bad : {json::value(0), json::value(-3), json::value(1.5), json::value("7"), json::value(nullptr),
                          json::value(18446744073709551615ULL)}) {
    auto batch = valid_batch();
    batch["seq"] = bad;
    const auto refusal = refusal_of(batch);
    CHECK(refusal.status == 400);
    CHECK_MESSAGE(refusal.message.find("seq") != std::string::npos, refusal.message);
  }
  auto batch = valid_batch();
  batch["sent_at"] = "yesterday";
  check_refused(refusal_of(batch), 400, "bad_field", {"sent_at"});
  batch = valid_batch();
  batch.erase("agent");
  check_refused(refusal_of(batch), 400, "missing_field", {"agent"});
  batch = valid_batch();
  batch["agent"].as_object().erase("hostname");
  check_refused(refusal_of(batch), 400, "missing_field", {"hostname"});
  batch = valid_batch();
  batch["samples"] = "none";
  check_refused(refusal_of(batch), 400, "bad_field", {"samples"});
}

TEST_CASE("an unknown family is named") {
  check_refused(refusal_of(with_sample_field(1, "family", "pg_nonsense")), 400, "unknown_family", {"pg_nonsense"});
}

TEST_CASE("instance families need an instance, host families take none") {
  auto batch = valid_batch();
  batch["samples"].as_array()[0].as_object().erase("instance");
  check_refused(refusal_of(batch), 400, "bad_instance", {"pg_stats_database"});
  check_refused(refusal_of(with_sample_field(0, "instance", "")), 400, "bad_instance", {"pg_stats_database"});
  check_refused(refusal_of(with_sample_field(1, "instance", "main")), 400, "bad_instance", {"sysstat"});
  CHECK(parse(with_sample_field(1, "instance", "")).samples.size() == 2);
  check_refused(refusal_of(with_sample_field(0, "at", "2026-11-24T12:00:00")), 400, "bad_field", {"samples[0]", "at"});
}

TEST_CASE("columns must be known, distinct, and include the family's keys") {
  check_refused(refusal_of(with_sample_field(0, "columns", {"datname", "bogus", "xact_commit", "blk_read_time", "x"})),
                400, "unknown_column", {"pg_stats_database", "bogus"});
  check_refused(refusal_of(with_sample_field(0, "columns", {"datname", "xact_commit", "xact_commit", "a", "b"})), 400,
                "unknown_column", {"pg_stats_database", "xact_commit"});
  check_refused(refusal_of(with_sample_field(1, "columns", {"cpu_user", "datname"})), 400, "unknown_column",
                {"sysstat", "datname"});
  auto batch = with_sample_field(0, "columns", {"xact_commit"});
  batch["samples"].as_array()[0].as_object()["rows"] = {{1}};
  check_refused(refusal_of(batch), 400, "unknown_column", {"pg_stats_database", "datname"});
  check_refused(refusal_of(with_sample_field(1, "columns", json::array{})), 400, "bad_field", {"columns"});
}

TEST_CASE("every row is exactly as wide as the columns") {
  check_refused(refusal_of(with_sample_field(1, "rows", {{1.0, 2}, {1.0}})), 400, "bad_row_width",
                {"sysstat", "row 1"});
  check_refused(refusal_of(with_sample_field(1, "rows", {{1.0, 2, 3}})), 400, "bad_row_width", {"sysstat", "row 0"});
  check_refused(refusal_of(with_sample_field(1, "rows", {{1.0, 2}, "x"})), 400, "bad_row_width", {"sysstat", "row 1"});
}

TEST_CASE("every cell is of its column's type or null") {
  struct Case {
    const char* column;
    json::value cell;
  };
  // pg_stats_database columns: datname (text, key), stats_reset (timestamp), xact_commit (int64),
  // blk_read_time (float64); pg_instance's in_recovery is the boolean.
  const Case bad[] = {{"xact_commit", 1.5},     {"xact_commit", "12"},   {"xact_commit", true},
                      {"xact_commit", 9223372036854775808ULL},         {"xact_commit", json::array{1}},
                      {"blk_read_time", "1.5"}, {"blk_read_time", false}, {"stats_reset", "yesterday"},
                      {"stats_reset", 1700000000}, {"stats_reset", "2026-02-30T00:00:00Z"},
                      {"datname", 5},           {"datname", nullptr},    {"datname", json::string_view("a\0b", 3)}};
  for (const auto& c : bad) {
    auto sample = database_sample();
    const auto& columns = sample["columns"].as_array();
    for (std::size_t i = 0; i < columns.size(); ++i)
      if (columns[i].as_string() == c.column) sample["rows"].as_array()[1].as_array()[i] = c.cell;
    auto batch = valid_batch();
    batch["samples"].as_array()[0] = sample;
    check_refused(refusal_of(batch), 400, "bad_value", {"pg_stats_database", "row 1", c.column});
  }
  auto batch = valid_batch();
  batch["samples"].as_array().push_back({{"family", "pg_instance"}, {"instance", "main"}, {"at", "2026-11-24T12:00:00Z"},
                                         {"columns", {"in_recovery"}}, {"rows", {{1}}}});
  check_refused(refusal_of(batch), 400, "bad_value", {"pg_instance", "row 0", "in_recovery"});
}

TEST_CASE("numbers are accepted across the whole range of their type") {
  auto batch = with_sample_field(0, "rows", {{"a", nullptr, INT64_MIN, 18446744073709551615ULL, INT64_MAX},
                                            {"b", nullptr, 0, 1e300, -1}});
  const auto parsed = parse(batch);
  // A double column takes any JSON number, uint64 included, as the nearest double.
  check_rows(parsed.samples[0], {{"a"sv, INT64_MIN, INT64_MAX, 18446744073709551616.0, nullptr},
                                 {"b"sv, std::int64_t{0}, std::int64_t{-1}, 1e300, nullptr}});
  auto booleans = valid_batch();
  booleans["samples"] = {{{"family", "pg_instance"}, {"instance", "main"}, {"at", "2026-11-24T12:00:00Z"},
                          {"columns", {"in_recovery", "up"}}, {"rows", {{true, false}}}}};
  check_rows(parse(booleans).samples[0], {{true, false}});
}

TEST_CASE("a bad last sample refuses the batch however good the samples before it") {
  auto batch = valid_batch();
  auto& samples = batch["samples"].as_array();
  for (int i = 0; i < 5; ++i) samples.push_back(sysstat_sample());
  auto last = sysstat_sample();
  last["rows"] = {{1.0, 2}, {1.0, "two"}};
  samples.push_back(last);
  check_refused(refusal_of(batch), 400, "bad_value", {"sysstat", "samples[7] row 1", "mem_total_bytes"});
}

TEST_CASE("limits on samples and values give batch_too_large") {
  Limits limits;
  limits.max_samples = 1;
  check_refused(refusal_of(valid_batch(), limits), 400, "batch_too_large");
  limits = {};
  limits.max_cells = 11;  // the valid batch holds 2 x 5 + 1 x 2 = 12 values
  check_refused(refusal_of(valid_batch(), limits), 400, "batch_too_large");
  limits.max_cells = 12;
  CHECK(parse(valid_batch(), limits).samples.size() == 2);
}

TEST_CASE("dropped ranges are pairs below seq that do not overlap") {
  auto batch = valid_batch();
  batch["dropped"] = json::parse("[[4,6],[1,2]]");
  const auto parsed = parse(batch);
  REQUIRE(parsed.dropped.size() == 2);
  CHECK(parsed.dropped[0].first == 1);
  CHECK(parsed.dropped[1].last == 6);
  for (const char* bad : {"[[3,1]]", "[[0,1]]", "[[1,7]]", "[[1,2,3]]", "[[1,3],[3,4]]", "[[\"1\",2]]", "[5]", "\"x\""}) {
    auto b = valid_batch();
    b["dropped"] = json::parse(bad);
    check_refused(refusal_of(b), 400, "bad_field", {"dropped"});
  }
  Limits limits;
  limits.max_dropped_ranges = 1;
  batch["dropped"] = json::parse("[[1,1],[3,3]]");
  check_refused(refusal_of(batch, limits), 400, "batch_too_large", {"dropped"});
}

TEST_CASE("samples past retention are skipped; samples from the future refuse the batch") {
  Limits limits;
  limits.earliest_raw_us = *parse_rfc3339("2026-11-24T12:00:00.100Z");
  limits.earliest_disk_usage_us = *parse_rfc3339("2026-11-01T00:00:00Z");
  const auto parsed = parse(valid_batch(), limits);
  CHECK(parsed.expired_samples == 1);
  REQUIRE(parsed.samples.size() == 1);
  CHECK(parsed.families[parsed.samples[0].family_slot].family->name == "pg_stats_database");  // sysstat is older
  limits = {};
  limits.latest_us = *parse_rfc3339("2026-11-24T12:00:00.100Z");
  check_refused(refusal_of(valid_batch(), limits), 400, "sample_out_of_range", {"samples[0]"});
}

TEST_CASE("the stored-batch counters and the ingest slots") {
  Counters counters;
  counters.record_stored(parse(valid_batch()));
  CHECK(counters.batches_stored == 1);
  CHECK(counters.rows_of("pg_stats_database") == 2);
  CHECK(counters.rows_of("sysstat") == 1);
  CHECK(counters.rows_of("nonsense") == 0);

  std::optional<Slot> first, second;
  first.emplace(counters, 2);
  second.emplace(counters, 2);
  try {
    Slot third(counters, 2);
    FAIL("a third slot beyond capacity 2 was granted");
  } catch (const pga::net::ApiError& error) {
    CHECK(error.status() == 503);
    CHECK(error.code() == "overloaded");
    CHECK(pga::net::find_header(error.headers(), "Retry-After").has_value());
  }
  CHECK(counters.batches_overloaded == 1);
  second.reset();
  CHECK_NOTHROW(Slot(counters, 2));
  first.reset();
  CHECK(counters.in_flight == 0);
}

namespace {

json::object query_text(std::string_view instance, std::int64_t queryid, std::string_view query) {
  return {{"instance", instance}, {"queryid", queryid}, {"dbid", 5}, {"userid", 10}, {"query", query}};
}

json::object with_query_texts(json::value texts) {
  auto batch = valid_batch();
  batch["query_texts"] = std::move(texts);
  return batch;
}

}  // namespace

TEST_CASE("query texts come out of the batch with their instance and query id") {
  CHECK(parse(valid_batch()).query_texts.empty());
  auto texts = json::array{query_text("main", -9223372036854775807LL - 1, "SELECT $1"),
                           json::object{{"instance", "main"}, {"queryid", 42}, {"query", "SELECT 'é\t\\'"}}};
  const auto parsed = parse(with_query_texts(texts));
  REQUIRE(parsed.query_texts.size() == 2);
  CHECK(parsed.query_texts[0].instance == "main");
  CHECK(parsed.query_texts[0].queryid == std::numeric_limits<std::int64_t>::min());
  CHECK(parsed.query_texts[0].query == "SELECT $1");
  CHECK(parsed.query_texts[1].queryid == 42);  // dbid and userid may be left out
  CHECK(parsed.query_texts[1].query == "SELECT 'é\t\\'");
}

TEST_CASE("the texts the agent writes are the texts the server reads") {
  const std::vector<pga::metrics::QueryText> sent{{"main", 7, 5, 10, "SELECT \"x\"\n FROM t WHERE a = $1"},
                                                  {"other", -3, 1, 2, "UPDATE t SET b = $1"}};
  const auto body = pga::agent::batch_json({kCollector, "0.1.0", "db01"}, 3, {}, {}, sent);
  const auto parsed = parse_batch(body, kCollector, {});
  REQUIRE(parsed.query_texts.size() == 2);
  for (std::size_t i = 0; i < sent.size(); ++i) {
    CHECK(parsed.query_texts[i].instance == sent[i].instance);
    CHECK(parsed.query_texts[i].queryid == sent[i].queryid);
    CHECK(parsed.query_texts[i].query == sent[i].query);
  }
  CHECK(json::parse(pga::agent::batch_json({kCollector, "0.1.0", "db01"}, 3, {}, {})).as_object().if_contains(
            "query_texts") == nullptr);
}

TEST_CASE("a query text of up to 16 KiB is accepted, a longer one refuses the batch") {
  // 16384 bytes of two-byte characters: the bound is in bytes after JSON decoding, not in characters.
  std::string longest;
  while (longest.size() < pga::metrics::kMaxQueryTextBytes) longest += "é";
  CHECK(parse(with_query_texts(json::array{query_text("main", 1, longest)})).query_texts[0].query.size() == 16384);
  check_refused(refusal_of(with_query_texts(json::array{query_text("main", 1, longest + "x")})), 400, "bad_field",
                {"query_texts[0]", "query"});
}

TEST_CASE("every malformed query text refuses the batch, naming the text and the field") {
  check_refused(refusal_of(with_query_texts("SELECT 1")), 400, "bad_field", {"query_texts"});
  check_refused(refusal_of(with_query_texts(json::array{query_text("main", 1, "SELECT 1"), 5})), 400, "bad_field",
                {"query_texts[1]"});
  const auto refused_with = [](std::string_view field, json::value value, std::string_view code) {
    auto text = query_text("main", 1, "SELECT 1");
    if (value.is_null()) text.erase(field);
    else text[field] = std::move(value);
    check_refused(refusal_of(with_query_texts(json::array{text})), 400, code, {"query_texts[0]", field});
  };
  refused_with("instance", nullptr, "missing_field");
  refused_with("instance", "", "bad_field");
  refused_with("instance", 3, "bad_field");
  refused_with("instance", json::string(201, 'i'), "bad_field");
  refused_with("queryid", nullptr, "missing_field");
  refused_with("queryid", "123", "bad_field");
  refused_with("queryid", 1.5, "bad_field");
  refused_with("queryid", 18446744073709551615ULL, "bad_field");
  refused_with("dbid", "5", "bad_field");
  refused_with("userid", 2.5, "bad_field");
  refused_with("query", nullptr, "missing_field");
  refused_with("query", 12, "bad_field");
  refused_with("query", "", "bad_field");
  refused_with("query", json::string(std::string_view("SELECT \0", 8)), "bad_field");
}

TEST_CASE("a batch holds a bounded number of query texts") {
  Limits limits;
  limits.max_query_texts = 1;
  const auto two = with_query_texts(json::array{query_text("main", 1, "SELECT 1"), query_text("main", 2, "SELECT 2")});
  check_refused(refusal_of(two, limits), 400, "batch_too_large", {"query_texts"});
  limits.max_query_texts = 2;
  CHECK(parse(two, limits).query_texts.size() == 2);
}

TEST_CASE("ingest: non-finite numbers are refused, naming family and column") {
  for (auto literal : {"1e999"sv, "-1e999"sv}) {
    auto body = json::serialize(valid_batch());
    const auto at = body.find("1.5E0");  // how Boost.JSON writes blk_read_time's 1.5
    REQUIRE(at != std::string::npos);
    body.replace(at, 5, literal);
    const auto refused = refusal_of(body);
    CHECK(refused.status == 400);
    CHECK(refused.code == "bad_value");
    CHECK(refused.message.find("pg_stats_database") != std::string::npos);
    CHECK(refused.message.find("blk_read_time") != std::string::npos);
    CHECK(refused.message.find("finite") != std::string::npos);
  }
}

TEST_CASE("ingest: per-collector limits refuse a batch with 400 limit_exceeded naming the limit") {
  Limits limits;
  limits.max_objects_per_sample = 2;
  limits.max_instances = 2;
  limits.max_databases = 3;
  limits.max_text_bytes = 16;
  CHECK(refusal_of(valid_batch(), limits).code == "accepted");  // two rows, one instance, two databases

  auto rows = valid_batch();
  rows["samples"].as_array()[0].as_object()["rows"].as_array().push_back({"third", nullptr, 1, 1.0, 1});
  auto refused = refusal_of(rows, limits);
  CHECK(refused.code == "limit_exceeded");
  CHECK(refused.message.find("limits.objects_per_sample") != std::string::npos);
  CHECK(refused.message.find("samples[0]") != std::string::npos);

  auto instances = valid_batch();
  for (auto name : {"second", "third"}) {
    auto sample = database_sample();
    sample["instance"] = name;
    sample["rows"] = json::array{{"app", nullptr, 1, 1.0, 1}};
    instances["samples"].as_array().push_back(sample);
  }
  refused = refusal_of(instances, limits);
  CHECK(refused.code == "limit_exceeded");
  CHECK(refused.message.find("limits.instances_per_collector") != std::string::npos);

  auto databases = valid_batch();
  auto other = database_sample();
  other["instance"] = "second";  // two instances: four (instance, database) pairs
  databases["samples"].as_array().push_back(other);
  refused = refusal_of(databases, limits);
  CHECK(refused.code == "limit_exceeded");
  CHECK(refused.message.find("limits.databases_per_collector") != std::string::npos);

  auto text = with_sample_field(0, "rows", json::array{{std::string(17, 'x'), nullptr, 1, 1.0, 1}});
  refused = refusal_of(text, limits);
  CHECK(refused.code == "limit_exceeded");
  CHECK(refused.message.find("column \"datname\"") != std::string::npos);
  CHECK(refused.message.find("limits.text_bytes") != std::string::npos);
  limits.max_text_bytes = 17;
  CHECK(refusal_of(text, limits).code == "accepted");
}
