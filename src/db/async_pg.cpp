// libpq in non-blocking mode driven by Asio: PQsocket() is watched with a stream_descriptor,
// every wait races a deadline timer, and a broken or timed-out connection is never reused.
#include "pganalytics/db/async_pg.hpp"

#include <libpq-fe.h>
#include <unistd.h>

#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "pganalytics/common/log.hpp"

namespace pga::db {
namespace asio = boost::asio;
using namespace boost::asio::experimental::awaitable_operators;
using Clock = std::chrono::steady_clock;
using WaitType = asio::posix::descriptor_base::wait_type;

namespace {

std::string trimmed(const char* message) {
  std::string text = message ? message : "";
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.pop_back();
  return text;
}

// SQLSTATEs that mean "the database is not available now" rather than "the statement is wrong".
bool is_unavailable_state(std::string_view state) {
  return state.starts_with("08") || state == "57P01" || state == "57P02" || state == "57P03" || state == "53300" ||
         state == "40001" || state == "40P01";
}

// Waits until `fd` is ready for `type` or the deadline passes. The descriptor is released, never
// closed: libpq owns the socket.
asio::awaitable<bool> wait_ready(asio::any_io_executor executor, int fd, WaitType type, Clock::time_point deadline) {
  asio::posix::stream_descriptor descriptor(executor, ::dup(fd));
  asio::steady_timer timer(executor);
  timer.expires_at(deadline);
  auto which = co_await (descriptor.async_wait(type, asio::use_awaitable) || timer.async_wait(asio::use_awaitable));
  co_return which.index() == 0;
}

}  // namespace

struct AsyncConnection::Impl {
  asio::any_io_executor executor;
  std::unique_ptr<PGconn, decltype(&PQfinish)> conn{nullptr, PQfinish};
  bool broken = false;

  [[noreturn]] void fail_unavailable(const std::string& what) {
    broken = true;
    throw DbUnavailable(what);
  }

  asio::awaitable<void> wait(WaitType type, Clock::time_point deadline) {
    const bool ready = co_await wait_ready(executor, PQsocket(conn.get()), type, deadline);
    if (!ready) fail_unavailable("database operation timed out");
    co_return;
  }

  asio::awaitable<void> flush(Clock::time_point deadline) {
    for (;;) {
      int status = PQflush(conn.get());
      if (status == 0) co_return;
      if (status < 0) fail_unavailable("lost the database connection: " + trimmed(PQerrorMessage(conn.get())));
      co_await wait(WaitType::wait_write, deadline);
    }
  }

  // Reads every result of the statement in flight; returns the last one, throws on an error.
  asio::awaitable<PgResult> collect(Clock::time_point deadline) {
    std::optional<PgResult> last;
    std::optional<DbError> error;
    bool unavailable = false;
    for (;;) {
      while (PQisBusy(conn.get())) {
        co_await wait(WaitType::wait_read, deadline);
        if (!PQconsumeInput(conn.get()))
          fail_unavailable("lost the database connection: " + trimmed(PQerrorMessage(conn.get())));
      }
      PGresult* raw = PQgetResult(conn.get());
      if (!raw) break;
      PgResult result(raw);
      auto status = PQresultStatus(raw);
      if (status == PGRES_COPY_IN) co_return result;
      if (status == PGRES_FATAL_ERROR && !error) {
        const char* state = PQresultErrorField(raw, PG_DIAG_SQLSTATE);
        std::string sqlstate = state ? state : "";
        unavailable = is_unavailable_state(sqlstate);
        error.emplace(trimmed(PQresultErrorMessage(raw)), sqlstate);
      }
      last = std::move(result);
    }
    if (PQstatus(conn.get()) == CONNECTION_BAD)
      fail_unavailable("lost the database connection: " + trimmed(PQerrorMessage(conn.get())));
    if (error) {
      if (unavailable) throw DbUnavailable(error->what(), error->sqlstate());
      throw *error;
    }
    if (!last) throw DbError("the database returned no result");
    co_return std::move(*last);
  }
};

AsyncConnection::AsyncConnection(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
AsyncConnection::~AsyncConnection() = default;

bool AsyncConnection::healthy() const {
  return !impl_->broken && PQstatus(impl_->conn.get()) == CONNECTION_OK &&
         PQtransactionStatus(impl_->conn.get()) == PQTRANS_IDLE;
}

asio::awaitable<std::unique_ptr<AsyncConnection>> AsyncConnection::connect(asio::any_io_executor executor,
                                                                           std::string conninfo,
                                                                           std::chrono::milliseconds timeout,
                                                                           std::string application_name) {
  auto impl = std::make_unique<Impl>();
  impl->executor = executor;
  const char* keys[] = {"dbname", "application_name", nullptr};
  const char* values[] = {conninfo.c_str(), application_name.c_str(), nullptr};
  impl->conn.reset(PQconnectStartParams(keys, values, 1));
  if (!impl->conn || PQstatus(impl->conn.get()) == CONNECTION_BAD)
    throw DbUnavailable("cannot connect to PostgreSQL (" + log::redact(conninfo) +
                        "): " + trimmed(impl->conn ? PQerrorMessage(impl->conn.get()) : "out of memory"));
  const auto deadline = Clock::now() + timeout;
  for (;;) {
    auto state = PQconnectPoll(impl->conn.get());
    if (state == PGRES_POLLING_OK) break;
    if (state == PGRES_POLLING_FAILED)
      throw DbUnavailable("cannot connect to PostgreSQL (" + log::redact(conninfo) +
                          "): " + trimmed(PQerrorMessage(impl->conn.get())));
    auto type = state == PGRES_POLLING_READING ? WaitType::wait_read : WaitType::wait_write;
    if (!co_await wait_ready(executor, PQsocket(impl->conn.get()), type, deadline))
      throw DbUnavailable("cannot connect to PostgreSQL (" + log::redact(conninfo) + "): timed out");
  }
  PQsetnonblocking(impl->conn.get(), 1);
  PQsetNoticeProcessor(impl->conn.get(), [](void*, const char*) {}, nullptr);
  co_return std::unique_ptr<AsyncConnection>(new AsyncConnection(std::move(impl)));
}

asio::awaitable<PgResult> AsyncConnection::query(const char* sql, std::vector<Param> params,
                                                  std::chrono::milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  std::vector<const char*> values;
  values.reserve(params.size());
  for (const auto& p : params) values.push_back(p ? p->c_str() : nullptr);
  if (!PQsendQueryParams(impl_->conn.get(), sql, static_cast<int>(values.size()), nullptr, values.data(), nullptr,
                         nullptr, 0))
    impl_->fail_unavailable("cannot send to the database: " + trimmed(PQerrorMessage(impl_->conn.get())));
  co_await impl_->flush(deadline);
  co_return co_await impl_->collect(deadline);
}

asio::awaitable<void> AsyncConnection::copy_in(const std::string& copy_sql, std::string_view data,
                                               std::chrono::milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  PGconn* conn = impl_->conn.get();
  if (!PQsendQueryParams(conn, copy_sql.c_str(), 0, nullptr, nullptr, nullptr, nullptr, 0))
    impl_->fail_unavailable("cannot send to the database: " + trimmed(PQerrorMessage(conn)));
  co_await impl_->flush(deadline);
  auto started = co_await impl_->collect(deadline);
  constexpr std::size_t kChunk = 256 * 1024;
  for (std::size_t offset = 0; offset < data.size();) {
    auto piece = data.substr(offset, kChunk);
    int sent = PQputCopyData(conn, piece.data(), static_cast<int>(piece.size()));
    if (sent < 0) impl_->fail_unavailable("COPY failed: " + trimmed(PQerrorMessage(conn)));
    if (sent == 0) {
      co_await impl_->wait(WaitType::wait_write, deadline);
      continue;
    }
    offset += piece.size();
  }
  while (PQputCopyEnd(conn, nullptr) == 0) co_await impl_->wait(WaitType::wait_write, deadline);
  co_await impl_->flush(deadline);
  co_await impl_->collect(deadline);
}

PgPool::Lease::Lease(std::shared_ptr<PgPool> pool, std::unique_ptr<AsyncConnection> conn)
    : pool_(std::move(pool)), conn_(std::move(conn)) {}

PgPool::Lease::~Lease() {
  if (pool_) pool_->give_back(std::move(conn_));
}

PgPool::PgPool(asio::any_io_executor executor, std::string conninfo, std::size_t size)
    : executor_(std::move(executor)), conninfo_(std::move(conninfo)), size_(size) {}

std::shared_ptr<PgPool> PgPool::create(asio::any_io_executor executor, std::string conninfo, std::size_t size) {
  return std::shared_ptr<PgPool>(new PgPool(std::move(executor), std::move(conninfo), size));
}

bool PgPool::last_connect_failed() const {
  std::lock_guard lock(mutex_);
  return last_connect_failed_;
}

void PgPool::give_back(std::unique_ptr<AsyncConnection> conn) {
  std::lock_guard lock(mutex_);
  --in_use_;
  if (conn && conn->healthy()) idle_.push_back(std::move(conn));
}

asio::awaitable<PgPool::Lease> PgPool::acquire(std::chrono::milliseconds wait) {
  const auto deadline = Clock::now() + wait;
  for (;;) {
    {
      std::lock_guard lock(mutex_);
      if (!idle_.empty()) {
        auto conn = std::move(idle_.front());
        idle_.pop_front();
        ++in_use_;
        co_return Lease(shared_from_this(), std::move(conn));
      }
      if (in_use_ + idle_.size() < size_) {
        ++in_use_;
        break;
      }
    }
    if (Clock::now() >= deadline) throw DbUnavailable("all database connections are busy");
    // Connections come back within milliseconds; a short poll keeps the pool free of waiter lists.
    asio::steady_timer pause(executor_, std::chrono::milliseconds(5));
    co_await pause.async_wait(asio::use_awaitable);
  }
  try {
    auto conn = co_await AsyncConnection::connect(executor_, conninfo_, std::chrono::seconds(10));
    {
      std::lock_guard lock(mutex_);
      last_connect_failed_ = false;
    }
    co_return Lease(shared_from_this(), std::move(conn));
  } catch (...) {
    std::lock_guard lock(mutex_);
    --in_use_;
    last_connect_failed_ = true;
    throw;
  }
}

}  // namespace pga::db
