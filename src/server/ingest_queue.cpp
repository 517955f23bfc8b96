// Group commit: a push's parsed batch joins the queue and its handler waits; a writer takes what
// is queued (no deliberate delay: only what arrived while the previous transaction ran) and stores
// it in one transaction, so under load the statements and the COMMIT are paid once per group.
#include "pganalytics/server/ingest_queue.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <algorithm>
#include <deque>
#include <mutex>
#include <span>
#include <vector>

namespace pga::server::ingest {
namespace asio = boost::asio;
using asio::awaitable;

namespace {

// A parked handler, its type erased. (asio::any_completion_handler of Boost 1.81 recurses without
// end when moved into post.)
struct Waiter {
  virtual ~Waiter() = default;
  virtual void resume(const asio::any_io_executor& executor) = 0;
};

template <typename Handler>
struct ParkedHandler final : Waiter {
  explicit ParkedHandler(Handler parked) : handler(std::move(parked)) {}
  void resume(const asio::any_io_executor& executor) override { asio::post(executor, std::move(handler)); }
  Handler handler;
};

// One queued batch and the answer its handler waits for, handed over between threads: the
// writer settles it, a deadline timer may give up on it first; whichever comes first wakes the
// handler, which then reads what there is.
struct Pending {
  Pending(std::shared_ptr<const Batch> queued, asio::any_io_executor handler_executor)
      : batch(std::move(queued)), executor(std::move(handler_executor)) {}

  std::shared_ptr<const Batch> batch;
  // The waiting handler's: it is woken there, never inline on the writer's or timer's thread.
  asio::any_io_executor executor;
  std::mutex mutex;
  bool settled = false;
  bool expired = false;
  StoreOutcome outcome{};
  std::exception_ptr failure;
  std::unique_ptr<Waiter> waiter;

  void settle(const StoreOutcome* stored, std::exception_ptr error) {
    std::unique_ptr<Waiter> wake;
    {
      std::lock_guard lock(mutex);
      if (settled) return;
      settled = true;
      if (stored) outcome = *stored;
      failure = std::move(error);
      wake = std::move(waiter);
    }
    if (wake) wake->resume(executor);
  }

  void expire() {
    std::unique_ptr<Waiter> wake;
    {
      std::lock_guard lock(mutex);
      expired = true;
      wake = std::move(waiter);
    }
    if (wake) wake->resume(executor);
  }
};

using Group = std::vector<std::shared_ptr<Pending>>;

// Completes once the batch is settled or expired, whichever comes first.
template <typename Token>
auto async_settled(const std::shared_ptr<Pending>& pending, Token&& token) {
  return asio::async_initiate<Token, void()>(
      [pending](auto handler) {
        // A local: once the handler is handed over, another thread may resume the caller and
        // destroy this initiation object while the lock is still held.
        const auto p = pending;
        std::unique_lock lock(p->mutex);
        if (p->settled || p->expired) {
          lock.unlock();
          asio::post(p->executor, std::move(handler));
          return;
        }
        p->waiter = std::make_unique<ParkedHandler<decltype(handler)>>(std::move(handler));
      },
      std::forward<Token>(token));
}

}  // namespace

struct IngestQueue::Impl {
  asio::any_io_executor executor;
  std::shared_ptr<db::PgPool> pool;
  std::size_t writers;
  std::size_t max_group;
  std::mutex mutex;
  std::deque<std::shared_ptr<Pending>> queued;
  std::size_t running = 0;  // writers started and not yet finished

  // Queues `pending`; true when a writer must be started for it.
  bool enqueue(std::shared_ptr<Pending> pending) {
    std::lock_guard lock(mutex);
    queued.push_back(std::move(pending));
    if (running >= writers) return false;
    ++running;
    return true;
  }

  // Up to max_group queued batches; none, and the writer counted out, when the queue is empty.
  Group take() {
    std::lock_guard lock(mutex);
    Group group;
    while (!queued.empty() && group.size() < max_group) {
      group.push_back(std::move(queued.front()));
      queued.pop_front();
    }
    if (group.empty()) --running;
    return group;
  }
};

namespace {

awaitable<void> store_alone(db::AsyncConnection& conn, Pending& pending) {
  std::vector<StoreOutcome> outcomes;
  std::exception_ptr failure;
  try {
    const Batch* const one[] = {pending.batch.get()};
    const std::span<const Batch* const> batches(one);
    outcomes = co_await store_group(conn, batches);
  } catch (...) {
    failure = std::current_exception();
  }
  pending.settle(failure ? nullptr : &outcomes.front(), failure);
}

void count_grouped(const std::vector<StoreOutcome>& outcomes) {
  if (outcomes.size() < 2) return;
  for (const auto& outcome : outcomes)
    if (!outcome.duplicate) ++counters().batches_grouped;
}

// Stores `group` in one transaction and answers each batch. When the group fails for a reason
// that is not unavailability (a refused batch, a constraint), its batches are stored again one
// by one, so the fault stays with the batch that has it. Never throws.
awaitable<void> store_and_answer(IngestQueue::Impl& impl, const Group& group) {
  std::vector<const Batch*> members;
  for (const auto& pending : group) members.push_back(pending->batch.get());
  const std::span<const Batch* const> batches(members);
  std::exception_ptr failure;
  try {
    auto lease = co_await impl.pool->acquire();
    std::vector<StoreOutcome> outcomes;
    bool one_by_one = false;
    try {
      outcomes = co_await store_group(*lease, batches);
    } catch (const db::DbUnavailable&) {
      throw;
    } catch (...) {
      if (group.size() == 1) throw;
      one_by_one = true;
    }
    if (one_by_one) {
      for (const auto& pending : group) co_await store_alone(*lease, *pending);
      co_return;
    }
    count_grouped(outcomes);
    for (std::size_t i = 0; i < group.size(); ++i) group[i]->settle(&outcomes[i], nullptr);
    co_return;
  } catch (...) {
    failure = std::current_exception();
  }
  for (const auto& pending : group) pending->settle(nullptr, failure);
}

// A free coroutine rather than a capturing lambda: GCC 12 mishandles lambda captures in co_spawn.
awaitable<void> write_queued(std::shared_ptr<IngestQueue::Impl> impl) {
  for (;;) {
    const auto group = impl->take();
    if (group.empty()) co_return;
    co_await store_and_answer(*impl, group);
  }
}

}  // namespace

IngestQueue::IngestQueue(asio::any_io_executor executor, std::shared_ptr<db::PgPool> pool, std::size_t writers,
                         std::size_t max_group)
    : impl_(std::make_shared<Impl>()) {
  impl_->executor = std::move(executor);
  impl_->pool = std::move(pool);
  impl_->writers = std::max<std::size_t>(1, writers);
  impl_->max_group = std::max<std::size_t>(1, max_group);
}

std::size_t IngestQueue::capacity() const { return impl_->writers * impl_->max_group; }

awaitable<StoreOutcome> IngestQueue::store(const std::shared_ptr<const Batch>& batch,
                                           std::chrono::milliseconds timeout) {
  const auto executor = co_await asio::this_coro::executor;
  const auto pending = std::make_shared<Pending>(batch, executor);
  if (impl_->enqueue(pending)) asio::co_spawn(impl_->executor, write_queued(impl_), asio::detached);
  asio::steady_timer deadline(executor, timeout);
  deadline.async_wait([weak = std::weak_ptr<Pending>(pending)](boost::system::error_code error) {
    if (error) return;  // cancelled: settled first
    if (auto expired = weak.lock()) expired->expire();
  });
  co_await async_settled(pending, asio::use_awaitable);
  deadline.cancel();
  std::lock_guard lock(pending->mutex);
  if (!pending->settled) throw db::DbUnavailable("the batch was not stored in time");
  if (pending->failure) std::rethrow_exception(pending->failure);
  co_return pending->outcome;
}

}  // namespace pga::server::ingest
