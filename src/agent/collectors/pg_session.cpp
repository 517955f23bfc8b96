// Agent sessions run with application_name "pganalytics-agent", short statement and lock
// timeouts and read-only transactions, so monitoring can never hold locks or run away.
#include "pganalytics/agent/collectors/pg_session.hpp"

#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <charconv>
#include <stdexcept>

#include "pganalytics/metrics/registry.hpp"

namespace pga::agent::collectors {

std::string rfc3339_sql(const std::string& expression) {
  return "to_char((" + expression + ") AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"')";
}

PgSession::PgSession(boost::asio::any_io_executor executor, std::string instance, std::string conninfo)
    : executor_(std::move(executor)), instance_(std::move(instance)), conninfo_(std::move(conninfo)) {}

boost::asio::awaitable<void> PgSession::ensure_connected() {
  if (conn_ && conn_->healthy()) co_return;
  conn_.reset();
  auto conn = co_await db::AsyncConnection::connect(executor_, conninfo_, std::chrono::seconds(10), "pganalytics-agent");
  co_await conn->query(
      "SELECT set_config('statement_timeout', '5s', false), set_config('lock_timeout', '1s', false), "
      "set_config('default_transaction_read_only', 'on', false)");
  auto version = co_await conn->query("SELECT current_setting('server_version_num')::int");
  version_ = static_cast<int>(version.get_int(0, 0));
  conn_ = std::move(conn);
}

namespace {

// Waits for the session to be free, then holds it until destroyed.
class SessionTurn {
 public:
  static boost::asio::awaitable<SessionTurn> take(bool& busy) {
    while (busy) {
      boost::asio::steady_timer pause(co_await boost::asio::this_coro::executor, std::chrono::milliseconds(5));
      co_await pause.async_wait(boost::asio::use_awaitable);
    }
    busy = true;
    co_return SessionTurn(busy);
  }
  SessionTurn(SessionTurn&& other) noexcept : busy_(std::exchange(other.busy_, nullptr)) {}
  ~SessionTurn() {
    if (busy_) *busy_ = false;
  }

 private:
  explicit SessionTurn(bool& busy) : busy_(&busy) {}
  bool* busy_;
};

}  // namespace

boost::asio::awaitable<db::PgResult> PgSession::query(const char* sql) {
  auto turn = co_await SessionTurn::take(busy_);
  co_await ensure_connected();
  try {
    co_return co_await conn_->exec(sql);
  } catch (const db::DbUnavailable&) {
    conn_.reset();
    throw;
  }
}

boost::asio::awaitable<int> PgSession::server_version_num() {
  auto turn = co_await SessionTurn::take(busy_);
  co_await ensure_connected();
  co_return version_;
}

namespace {

metrics::Cell typed_cell(metrics::ColumnType type, std::string_view text, const std::string& column) {
  switch (type) {
    case metrics::ColumnType::Text:
    case metrics::ColumnType::Timestamp:
      return std::string(text);
    case metrics::ColumnType::Bool:
      return text == "t";
    case metrics::ColumnType::Int64: {
      std::int64_t value = 0;
      auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
      if (ec != std::errc{} || end != text.data() + text.size())
        throw std::runtime_error("column " + column + ": \"" + std::string(text) + "\" is not an integer");
      return value;
    }
    case metrics::ColumnType::Float64:
      return std::stod(std::string(text));
  }
  return nullptr;
}

}  // namespace

metrics::Sample sample_from_result(const std::string& family, const std::string& instance,
                                   std::chrono::system_clock::time_point at, const db::PgResult& result) {
  const auto* spec = metrics::find_family(family);
  if (!spec) throw std::logic_error("unknown family " + family);
  metrics::Sample sample{family, instance, at, {}, {}};
  std::vector<metrics::ColumnType> types;
  for (int c = 0; c < result.columns(); ++c) {
    const auto* column = spec->find_column(result.column_name(c));
    if (!column) throw std::logic_error("family " + family + " has no column " + std::string(result.column_name(c)));
    sample.columns.emplace_back(column->name);
    types.push_back(column->type);
  }
  sample.rows.reserve(static_cast<std::size_t>(result.rows()));
  for (int r = 0; r < result.rows(); ++r) {
    metrics::Row row;
    row.reserve(types.size());
    for (int c = 0; c < result.columns(); ++c)
      row.push_back(result.is_null(r, c) ? metrics::Cell{nullptr}
                                         : typed_cell(types[static_cast<std::size_t>(c)], result.get(r, c),
                                                      sample.columns[static_cast<std::size_t>(c)]));
    sample.rows.push_back(std::move(row));
  }
  return sample;
}

}  // namespace pga::agent::collectors
