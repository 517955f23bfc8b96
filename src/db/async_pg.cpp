// libpq in non-blocking mode driven by Asio: PQsocket() is watched with a stream_descriptor,
// every wait is bounded by a deadline timer, and a broken or timed-out connection is never reused.
#include "pganalytics/db/async_pg.hpp"

#include <libpq-fe.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <unordered_map>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "pganalytics/common/log.hpp"

namespace pga::db {
namespace asio = boost::asio;
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

using Descriptor = asio::posix::stream_descriptor;

// What a wait shares with its deadline timer, which cancels the wait on expiry rather than
// racing it: a race through operator|| spawned two coroutines per wait and ended the loser with
// a thrown operation_aborted.
struct WaitState {
  std::shared_ptr<Descriptor> descriptor;
  std::atomic<bool> expired{false};
};

// Queues the wait, then polls once. The descriptor is registered edge-triggered, so readiness
// that came before the wait was queued may already have been reported to another thread's
// epoll_wait and would never be reported again; the wait is then cancelled, and the caller, which
// always asks libpq again, sees a spurious wake-up at worst.
template <typename Token>
auto async_wait_ready(const std::shared_ptr<Descriptor>& descriptor, WaitType type, Token&& token) {
  return asio::async_initiate<Token, void(boost::system::error_code)>(
      [descriptor, type](auto handler) {
        // Locals only once the wait is queued: on a multi-threaded io_context another thread may
        // complete it and resume the caller, destroying this initiation object (and its captures)
        // and letting go of the descriptor before the probe runs.
        const auto watched = descriptor;
        const auto events = static_cast<short>(type == WaitType::wait_read ? POLLIN : POLLOUT);
        watched->async_wait(type, std::move(handler));
        pollfd probe{watched->native_handle(), events, 0};
        if (::poll(&probe, 1, 0) > 0) watched->cancel();
      },
      std::forward<Token>(token));
}

// Waits until `descriptor` is, or may be, ready for `type`; false once the deadline has passed.
// Throws nothing for a timeout.
asio::awaitable<bool> wait_on(const std::shared_ptr<Descriptor>& descriptor, WaitType type, Clock::time_point deadline) {
  if (Clock::now() >= deadline) co_return false;
  const auto state = std::make_shared<WaitState>();
  state->descriptor = descriptor;
  asio::steady_timer timer(descriptor->get_executor(), deadline);
  timer.async_wait([weak = std::weak_ptr<WaitState>(state)](boost::system::error_code error) {
    if (error) return;  // cancelled: the wait ended first
    if (auto expired = weak.lock()) {
      expired->expired = true;
      expired->descriptor->cancel();
    }
  });
  boost::system::error_code ignored;  // ready, cancelled by the probe or by the deadline: told apart below
  auto token = asio::redirect_error(asio::use_awaitable, ignored);
  co_await async_wait_ready(descriptor, type, token);
  timer.cancel();
  co_return !state->expired;
}

// The same on a descriptor of its own, a duplicate of `fd`, closed afterwards; libpq keeps `fd`.
asio::awaitable<bool> wait_ready(asio::any_io_executor executor, int fd, WaitType type, Clock::time_point deadline) {
  const auto descriptor = std::make_shared<Descriptor>(executor, ::dup(fd));
  co_return co_await wait_on(descriptor, type, deadline);
}

}  // namespace

struct AsyncConnection::Impl {
  asio::any_io_executor executor;
  std::unique_ptr<PGconn, decltype(&PQfinish)> conn{nullptr, PQfinish};
  bool broken = false;
  // A duplicate of libpq's socket, registered with the reactor once for the connection's life.
  std::shared_ptr<Descriptor> socket;
  std::unordered_map<std::string, std::string> prepared;  // SQL text -> statement name

  [[noreturn]] void fail_unavailable(const std::string& what) {
    broken = true;
    throw DbUnavailable(what);
  }

  asio::awaitable<void> wait(WaitType type, Clock::time_point deadline) {
    const bool ready = co_await wait_on(socket, type, deadline);
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

bool AsyncConnection::connected() const { return !impl_->broken && PQstatus(impl_->conn.get()) == CONNECTION_OK; }

bool AsyncConnection::healthy() const {
  return !impl_->broken && PQstatus(impl_->conn.get()) == CONNECTION_OK &&
         PQtransactionStatus(impl_->conn.get()) == PQTRANS_IDLE;
}

asio::awaitable<void> AsyncConnection::close(std::chrono::milliseconds timeout) {
  if (!impl_->conn) co_return;
  impl_->broken = true;
  // A duplicate of the socket outlives PQfinish, which sends Terminate and closes libpq's own.
  const int socket = PQsocket(impl_->conn.get());
  const int watched = socket >= 0 ? ::dup(socket) : -1;
  impl_->conn.reset();
  impl_->socket.reset();
  if (watched < 0) co_return;
  const auto deadline = Clock::now() + timeout;
  try {
    char discarded[512];
    for (;;) {
      const bool readable = co_await wait_ready(impl_->executor, watched, WaitType::wait_read, deadline);
      if (!readable) break;
      // End of file, or a reset, is the server gone.
      const auto n = ::recv(watched, discarded, sizeof discarded, MSG_DONTWAIT);
      if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)) break;
    }
  } catch (const std::exception&) {
    // Shutting down: the connection is closed on our side either way.
  }
  ::close(watched);
}

namespace {

// The one host name of a conninfo that libpq would look up itself, or "" when there is none to
// look up: a socket directory, a numeric address, a hostaddr already given, several hosts.
std::string host_name_to_resolve(const std::string& conninfo) {
  char* error = nullptr;
  std::unique_ptr<PQconninfoOption, decltype(&PQconninfoFree)> options(PQconninfoParse(conninfo.c_str(), &error),
                                                                         PQconninfoFree);
  PQfreemem(error);
  if (!options) return "";  // libpq will say what is wrong with it
  std::string host, hostaddr, port;
  for (const auto* option = options.get(); option->keyword; ++option) {
    const std::string_view keyword = option->keyword;
    const std::string value = option->val ? option->val : "";
    if (keyword == "host") host = value;
    else if (keyword == "hostaddr") hostaddr = value;
    else if (keyword == "port") port = value;
  }
  boost::system::error_code not_numeric;
  asio::ip::make_address(host, not_numeric);
  if (host.empty() || !hostaddr.empty() || host.front() == '/' || host.front() == '@' ||
      host.find(',') != std::string::npos || port.find(',') != std::string::npos || !not_numeric)
    return "";
  return host;
}

// What a lookup running on the resolver's thread hands back; polled, not waited on, because the
// server's event loop runs on several threads and a timer may not be cancelled from another.
struct Lookup {
  std::atomic<bool> finished{false};
  boost::system::error_code ec;
  std::vector<std::string> addresses;
};

// libpq looks a host name up inside PQconnectStart, blocking the thread, and so the whole event
// loop, for as long as DNS takes. The name is looked up here instead, within the connection's
// deadline, and handed to libpq as hostaddr: the host repeated once per address, so libpq still
// tries every address in turn and checks TLS and .pgpass against the name.
asio::awaitable<std::pair<std::string, std::string>> host_and_addresses(asio::any_io_executor executor,
                                                                       const std::string& host,
                                                                       Clock::time_point deadline) {
  auto lookup = std::make_shared<Lookup>();
  auto resolver = std::make_shared<asio::ip::tcp::resolver>(executor);
  resolver->async_resolve(host, "5432", [lookup, resolver](const boost::system::error_code& ec, auto results) {
    lookup->ec = ec;
    for (const auto& entry : results) {
      auto address = entry.endpoint().address().to_string();
      if (std::find(lookup->addresses.begin(), lookup->addresses.end(), address) == lookup->addresses.end())
        lookup->addresses.push_back(std::move(address));
    }
    lookup->finished.store(true, std::memory_order_release);
  });
  asio::steady_timer pause(executor);
  while (!lookup->finished.load(std::memory_order_acquire)) {
    if (Clock::now() >= deadline) throw DbUnavailable("cannot resolve " + host + ": timed out");
    pause.expires_after(std::chrono::milliseconds(2));
    co_await pause.async_wait(asio::use_awaitable);
  }
  if (lookup->ec || lookup->addresses.empty())
    throw DbUnavailable("cannot resolve " + host + ": " + (lookup->ec ? lookup->ec.message() : "no address"));
  std::string hosts, addresses;
  for (const auto& address : lookup->addresses) {
    hosts += (hosts.empty() ? "" : ",") + host;
    addresses += (addresses.empty() ? "" : ",") + address;
  }
  co_return std::make_pair(hosts, addresses);
}

}  // namespace

asio::awaitable<std::unique_ptr<AsyncConnection>> AsyncConnection::connect(asio::any_io_executor executor,
                                                                           std::string conninfo,
                                                                           std::chrono::milliseconds timeout,
                                                                           std::string application_name) {
  const auto deadline = Clock::now() + timeout;
  auto impl = std::make_unique<Impl>();
  impl->executor = executor;
  std::vector<const char*> keys{"dbname", "application_name"};
  std::vector<const char*> values{conninfo.c_str(), application_name.c_str()};
  const auto host = host_name_to_resolve(conninfo);
  std::pair<std::string, std::string> resolved;
  if (!host.empty()) {
    resolved = co_await host_and_addresses(executor, host, deadline);
    keys.insert(keys.end(), {"host", "hostaddr"});
    values.insert(values.end(), {resolved.first.c_str(), resolved.second.c_str()});
  }
  keys.push_back(nullptr);
  values.push_back(nullptr);
  impl->conn.reset(PQconnectStartParams(keys.data(), values.data(), 1));
  if (!impl->conn || PQstatus(impl->conn.get()) == CONNECTION_BAD)
    throw DbUnavailable("cannot connect to PostgreSQL (" + log::redact(conninfo) +
                        "): " + trimmed(impl->conn ? PQerrorMessage(impl->conn.get()) : "out of memory"));
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
  // Only now: PQconnectPoll may change sockets while it tries the server's addresses.
  impl->socket = std::make_shared<Descriptor>(executor, ::dup(PQsocket(impl->conn.get())));
  PQsetNoticeProcessor(impl->conn.get(), [](void*, const char*) {}, nullptr);
  co_return std::unique_ptr<AsyncConnection>(new AsyncConnection(std::move(impl)));
}

asio::awaitable<PgResult> AsyncConnection::query(const char* sql, std::vector<Param> params,
                                                  std::chrono::milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  const auto text = text_params(params);
  if (!PQsendQueryParams(impl_->conn.get(), sql, text.count(), nullptr, text.values.data(), text.lengths.data(),
                         nullptr, 0))
    impl_->fail_unavailable("cannot send to the database: " + trimmed(PQerrorMessage(impl_->conn.get())));
  co_await impl_->flush(deadline);
  co_return co_await impl_->collect(deadline);
}

asio::awaitable<PgResult> AsyncConnection::query_prepared(const char* sql, std::vector<Param> params,
                                                           std::chrono::milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  PGconn* conn = impl_->conn.get();
  auto statement = impl_->prepared.find(sql);
  if (statement == impl_->prepared.end()) {
    // Remembered only once PostgreSQL accepted it: a failed prepare is tried again next time.
    const auto name = "pga_" + std::to_string(impl_->prepared.size() + 1);
    if (!PQsendPrepare(conn, name.c_str(), sql, static_cast<int>(params.size()), nullptr))
      impl_->fail_unavailable("cannot send to the database: " + trimmed(PQerrorMessage(conn)));
    co_await impl_->flush(deadline);
    co_await impl_->collect(deadline);
    statement = impl_->prepared.emplace(sql, name).first;
  }
  const auto text = text_params(params);
  if (!PQsendQueryPrepared(conn, statement->second.c_str(), text.count(), text.values.data(), text.lengths.data(),
                           nullptr, 0))
    impl_->fail_unavailable("cannot send to the database: " + trimmed(PQerrorMessage(conn)));
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
