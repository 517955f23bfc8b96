// The instance-wide collectors against the fixture PostgreSQL through a real PgSession: their SQL
// for this server version runs, every column is a registry column holding values of its type, the
// figures match what the server shows, and an unreachable instance still gets pg_instance up=false.
// (doctest assertions cannot sit inside coroutines with GCC 12: coroutines record, checks follow.)
#include <doctest/doctest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/use_future.hpp>

#include <map>

#include "pganalytics/agent/collectors/pg_collectors.hpp"
#include "pganalytics/metrics/registry.hpp"
#include "test_database.hpp"

using namespace pga;
using namespace pga::agent::collectors;
namespace asio = boost::asio;

namespace {

struct Collected {
  std::map<std::string, std::vector<metrics::Sample>> samples;  // by family
  std::map<std::string, std::string> errors;                    // by family: "unavailable" or the message
};

using Factory = agent::CollectorPtr (*)(std::shared_ptr<PgSession>);
constexpr Factory kFactories[] = {make_pg_instance, make_pg_bgwriter, make_pg_wal, make_replication,
                                  make_pg_activity, make_pg_locks};

asio::awaitable<void> collect_each(std::shared_ptr<PgSession> session, Collected& out) {
  for (const auto factory : kFactories) {
    auto collector = factory(session);
    try {
      auto samples = co_await collector->collect();
      out.samples[collector->family()] = std::move(samples);
    } catch (const db::DbUnavailable&) {
      out.errors[collector->family()] = "unavailable";
    } catch (const std::exception& e) {
      out.errors[collector->family()] = e.what();
    }
  }
}

Collected collect_all(const std::string& conninfo) {
  Collected collected;
  asio::io_context io;
  auto session = std::make_shared<PgSession>(io.get_executor(), "fixture", conninfo);
  auto done = asio::co_spawn(io, collect_each(session, collected), asio::use_future);
  io.run();
  done.get();
  return collected;
}

// The value of `column` in row `row` of `sample`; absent columns read as NULL.
metrics::Cell cell(const metrics::Sample& sample, std::size_t row, const std::string& column) {
  for (std::size_t c = 0; c < sample.columns.size(); ++c)
    if (sample.columns[c] == column) return sample.rows.at(row).at(c);
  return nullptr;
}

std::int64_t integer(const metrics::Cell& value) { return std::get<std::int64_t>(value); }
std::string text(const metrics::Cell& value) { return std::get<std::string>(value); }

// Every cell has the type its registry column declares, or is NULL where it is no key (the server
// refuses rows with a NULL key).
void check_types(const metrics::Sample& sample) {
  const auto* family = metrics::find_family(sample.family);
  REQUIRE(family);
  for (const auto& row : sample.rows) {
    REQUIRE(row.size() == sample.columns.size());
    for (std::size_t c = 0; c < row.size(); ++c) {
      const auto* column = family->find_column(sample.columns[c]);
      REQUIRE(column);
      CAPTURE(sample.family + "." + sample.columns[c]);
      if (std::holds_alternative<std::nullptr_t>(row[c])) {
        CHECK(column->kind != metrics::ColumnKind::Key);
        continue;
      }
      switch (column->type) {
        case metrics::ColumnType::Int64: CHECK(std::holds_alternative<std::int64_t>(row[c])); break;
        case metrics::ColumnType::Float64: CHECK(std::holds_alternative<double>(row[c])); break;
        case metrics::ColumnType::Bool: CHECK(std::holds_alternative<bool>(row[c])); break;
        case metrics::ColumnType::Text:
        case metrics::ColumnType::Timestamp: CHECK(std::holds_alternative<std::string>(row[c])); break;
      }
    }
  }
}

// The row of `sample` whose `column` holds `value`, or -1.
int find_row(const metrics::Sample& sample, const std::string& column, const metrics::Cell& value) {
  for (std::size_t r = 0; r < sample.rows.size(); ++r)
    if (cell(sample, r, column) == value) return static_cast<int>(r);
  return -1;
}

}  // namespace

TEST_CASE("every instance-wide family reads PostgreSQL with registry columns and true figures") {
  const auto url = test::fresh_database("pga_collector_sql");
  auto admin = db::PgConnection::connect(test::database_url("postgres"));
  const std::string slot = "pga_collector_sql_slot";
  admin.exec("SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE slot_name = $1", {slot});
  admin.exec("SELECT pg_create_physical_replication_slot($1, true)", {slot});
  // A session of the monitored database inside a transaction holding a lock, seen by pg_activity
  // and pg_locks; the agent's own session is not.
  auto holder = db::PgConnection::connect(url);
  holder.exec_script("CREATE EXTENSION pg_stat_statements; CREATE TABLE held (a int)");
  holder.exec_script("BEGIN; LOCK TABLE held IN SHARE MODE");

  const auto collected = collect_all(url);
  const auto restart_lsn =
      admin.exec("SELECT (restart_lsn - '0/0')::bigint FROM pg_replication_slots WHERE slot_name = $1", {slot});
  const auto expected_restart_lsn = std::stoll(std::string(restart_lsn.get(0, 0)));
  admin.exec("SELECT pg_drop_replication_slot($1)", {slot});

  CHECK(collected.errors.empty());
  for (const auto& [family, samples] : collected.samples)
    for (const auto& sample : samples) check_types(sample);

  const auto& instance = collected.samples.at("pg_instance").at(0);
  CHECK(cell(instance, 0, "up") == metrics::Cell{true});
  CHECK(cell(instance, 0, "in_recovery") == metrics::Cell{false});
  CHECK(integer(cell(instance, 0, "pg_stat_statements_dealloc")) >= 0);
  CHECK(text(cell(instance, 0, "pg_stat_statements_stats_reset")).ends_with("Z"));

  const auto& bgwriter = collected.samples.at("pg_bgwriter").at(0);
  CHECK(bgwriter.rows.size() == 1);
  CHECK(integer(cell(bgwriter, 0, "checkpoints_timed")) >= 0);  // PostgreSQL 15: the pre-17 names

  const auto& wal = collected.samples.at("pg_wal").at(0);
  CHECK(integer(cell(wal, 0, "current_lsn")) > 0);
  CHECK(cell(wal, 0, "receive_lsn") == metrics::Cell{nullptr});  // a primary receives nothing
  CHECK(integer(cell(wal, 0, "wal_files")) >= 1);
  CHECK(integer(cell(wal, 0, "wal_records")) > 0);

  const auto& replication = collected.samples.at("replication");
  REQUIRE(replication.size() == 1);  // slots only: the fixture has neither standbys nor a receiver
  const auto& slots = replication.at(0);
  const int row = find_row(slots, "name", metrics::Cell{slot});
  REQUIRE(row >= 0);
  CHECK(cell(slots, row, "kind") == metrics::Cell{std::string("slot")});
  CHECK(cell(slots, row, "slot_type") == metrics::Cell{std::string("physical")});
  CHECK(integer(cell(slots, row, "restart_lsn")) == expected_restart_lsn);
  CHECK(integer(cell(slots, row, "retained_wal_bytes")) >= 0);
  CHECK(cell(slots, row, "wal_status") == metrics::Cell{std::string("reserved")});

  const auto& activity = collected.samples.at("pg_activity").at(0);
  std::int64_t sessions_here = 0;
  for (std::size_t r = 0; r < activity.rows.size(); ++r)
    if (cell(activity, r, "datname") == metrics::Cell{std::string("pga_collector_sql")}) {
      sessions_here += integer(cell(activity, r, "sessions"));
      CHECK(cell(activity, r, "state") == metrics::Cell{std::string("idle in transaction")});
      CHECK(std::get<double>(cell(activity, r, "oldest_xact_age_seconds")) >= 0);
    }
  CHECK(sessions_here == 1);  // the lock holder, not the agent

  const auto& locks = collected.samples.at("pg_locks").at(0);
  bool share_lock_seen = false;
  for (std::size_t r = 0; r < locks.rows.size(); ++r)
    if (cell(locks, r, "datname") == metrics::Cell{std::string("pga_collector_sql")} &&
        cell(locks, r, "mode") == metrics::Cell{std::string("ShareLock")} &&
        cell(locks, r, "granted") == metrics::Cell{true})
      share_lock_seen = integer(cell(locks, r, "locks")) == 1;
  CHECK(share_lock_seen);
}

TEST_CASE("pg_instance leaves out pg_stat_statements_info where the extension is not created") {
  const auto collected = collect_all(test::fresh_database("pga_collector_sql_plain"));
  const auto& instance = collected.samples.at("pg_instance").at(0);
  CHECK(cell(instance, 0, "up") == metrics::Cell{true});
  CHECK(cell(instance, 0, "pg_stat_statements_version") == metrics::Cell{nullptr});
  CHECK(cell(instance, 0, "pg_stat_statements_dealloc") == metrics::Cell{nullptr});
}

TEST_CASE("an instance that does not answer gives pg_instance up=false and fails the others at once") {
  // A listener that never accepts: the TCP handshake succeeds and the server never speaks, so
  // every attempt runs into the connect timeout.
  asio::io_context listener_io;
  asio::ip::tcp::acceptor silent(listener_io, asio::ip::tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
  const auto port = silent.local_endpoint().port();
  const auto started = std::chrono::steady_clock::now();
  const auto collected = collect_all("postgresql://postgres@127.0.0.1:" + std::to_string(port) + "/postgres");
  const auto took = std::chrono::steady_clock::now() - started;

  const auto& instance = collected.samples.at("pg_instance");
  REQUIRE(instance.size() == 1);
  CHECK(instance[0].columns == std::vector<std::string>{"up"});
  CHECK(instance[0].rows.at(0).at(0) == metrics::Cell{false});
  for (const auto* family : {"pg_bgwriter", "pg_wal", "replication", "pg_activity", "pg_locks"}) {
    CAPTURE(family);
    CHECK(collected.errors.count(family) == 1);
    CHECK(collected.errors.at(family) == "unavailable");
  }
  // One connect timeout (5 s) for all six collectors, not one each.
  CHECK(took < std::chrono::seconds(8));
}
