// Agent sessions run with application_name "pganalytics-agent", short statement and lock timeouts,
// read-only transactions (monitoring never holds locks or runs away) and UTF-8 (batches are JSON).
#include "pganalytics/agent/collectors/pg_session.hpp"

#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <charconv>
#include <stdexcept>

#include "pganalytics/metrics/registry.hpp"

namespace pga::agent::collectors {

std::string rfc3339_sql(const std::string& expression) { return "(" + expression + ")"; }

std::string rfc3339_from_iso(std::string_view text) {
  // "2026-11-26 03:35:38.123456+00": a date, a space, a time with up to 6 decimals, "+00".
  const bool iso_utc = text.size() >= 22 && text.size() <= 29 && text[4] == '-' && text[7] == '-' &&
                       text[10] == ' ' && text[13] == ':' && text[16] == ':' && text.ends_with("+00");
  if (!iso_utc) return std::string(text);
  std::string out(text.substr(0, text.size() - 3));
  out[10] = 'T';
  return out + 'Z';
}

PgSession::PgSession(boost::asio::any_io_executor executor, std::string instance, std::string conninfo)
    : executor_(std::move(executor)), instance_(std::move(instance)), conninfo_(std::move(conninfo)) {}

namespace {

// Long enough for a loaded server across a network, short enough that an instance that does not
// answer costs its own collectors little: they wait out one attempt per pause, not one each.
constexpr std::chrono::seconds kConnectTimeout{5};
constexpr std::chrono::seconds kReconnectPause{5};

}  // namespace

boost::asio::awaitable<std::unique_ptr<db::AsyncConnection>> open_agent_connection(
    boost::asio::any_io_executor executor, std::string conninfo) {
  auto conn = co_await db::AsyncConnection::connect(executor, conninfo, kConnectTimeout, "pganalytics-agent");
  co_await conn->query(
      "SELECT set_config('statement_timeout', '5s', false), set_config('lock_timeout', '1s', false), "
      "set_config('default_transaction_read_only', 'on', false), set_config('client_encoding', 'UTF8', false), "
      // Timestamps print as ISO text in UTC, which sample_from_result rewrites as RFC 3339.
      "set_config('TimeZone', 'UTC', false), set_config('DateStyle', 'ISO, MDY', false)");
  co_return conn;
}

boost::asio::awaitable<void> PgSession::ensure_connected() {
  if (conn_ && conn_->healthy()) co_return;
  conn_.reset();
  // Right after a failed connect the instance's other collectors fail at once, with its reason.
  if (std::chrono::steady_clock::now() < reconnect_after_) throw db::DbUnavailable(connect_error_);
  try {
    auto conn = co_await open_agent_connection(executor_, conninfo_);
    auto version = co_await conn->query("SELECT current_setting('server_version_num')::int");
    version_ = static_cast<int>(version.get_int(0, 0));
    conn_ = std::move(conn);
    ++connections_opened_;
  } catch (const db::DbUnavailable& e) {
    reconnect_after_ = std::chrono::steady_clock::now() + kReconnectPause;
    connect_error_ = e.what();
    throw;
  }
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

boost::asio::awaitable<db::PgResult> PgSession::query(const char* sql) { return query_params(sql, {}); }

boost::asio::awaitable<db::PgResult> PgSession::query_params(const char* sql, std::vector<db::Param> params) {
  auto turn = co_await SessionTurn::take(busy_);
  co_await ensure_connected();
  try {
    auto running = conn_->query(sql, std::move(params));
    co_return co_await std::move(running);
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
      return std::string(text);
    case metrics::ColumnType::Timestamp:
      return rfc3339_from_iso(text);
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
  std::vector<int> sent;  // the result's columns that are the family's
  std::vector<metrics::ColumnType> types;
  for (int c = 0; c < result.columns(); ++c) {
    if (result.column_name(c).starts_with('_')) continue;
    const auto* column = spec->find_column(result.column_name(c));
    if (!column) throw std::logic_error("family " + family + " has no column " + std::string(result.column_name(c)));
    sample.columns.emplace_back(column->name);
    types.push_back(column->type);
    sent.push_back(c);
  }
  sample.rows.reserve(static_cast<std::size_t>(result.rows()));
  for (int r = 0; r < result.rows(); ++r) {
    metrics::Row row;
    row.reserve(types.size());
    for (std::size_t i = 0; i < sent.size(); ++i)
      row.push_back(result.is_null(r, sent[i]) ? metrics::Cell{nullptr}
                                               : typed_cell(types[i], result.get(r, sent[i]), sample.columns[i]));
    sample.rows.push_back(std::move(row));
  }
  return sample;
}

}  // namespace pga::agent::collectors
