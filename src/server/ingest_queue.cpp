// Group commit: a push's parsed batch joins its collector's queue and its handler waits; a writer
// takes what is queued (no deliberate delay: only what arrived while the previous transaction ran)
// and stores it in one transaction, so under load the statements and the COMMIT are paid once
// per group.
//
// Fair to collectors (issue 11.8): collectors with queued batches take turns, round robin; a
// collector is in one writer's group at a time (its row is locked by the transaction anyway, so a
// second writer would only wait); a group stops at a size in bytes, so one collector's huge
// batches go alone; and each collector has a bound of batches in flight and parses one at a time.
#include "pganalytics/server/ingest_queue.hpp"

#include <boost/asio/strand.hpp>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <algorithm>
#include <deque>
#include <map>
#include <mutex>
#include <string>
#include <span>
#include <vector>

#include "pganalytics/net/http.hpp"

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
      : batch(std::move(queued)), executor(std::move(handler_executor)), bytes(encoded_bytes(*batch)) {}

  static std::size_t encoded_bytes(const Batch& batch) {
    std::size_t bytes = 0;
    for (const auto& sample : batch.samples) bytes += sample.fields.size();
    return bytes;
  }

  std::shared_ptr<const Batch> batch;
  // The waiting handler's: it is woken there, never inline on the writer's or timer's thread.
  asio::any_io_executor executor;
  const std::size_t bytes;  // its encoded rows: what storing it costs
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

struct Group {
  std::vector<std::shared_ptr<Pending>> members;
  std::vector<std::string> collectors;  // each written by this group alone until it is done
};

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
  asio::any_io_executor parse;
  std::shared_ptr<db::PgPool> pool;
  QueueOptions options;

  struct Lane {
    std::deque<std::shared_ptr<Pending>> queued;
    bool writing = false;  // in a group being stored
    bool ready = false;    // in `turns`
  };
  struct Admitted {
    std::size_t in_flight = 0;
    asio::any_io_executor strand;
  };

  std::mutex mutex;
  std::map<std::string, Lane, std::less<>> lanes;
  std::deque<std::string> turns;  // collectors with queued batches and no writer, next first
  std::size_t running = 0;        // writers started and not yet finished
  std::map<std::string, Admitted, std::less<>> admitted;

  asio::any_io_executor admit(const std::string& collector) {
    std::lock_guard lock(mutex);
    auto& entry = admitted[collector];
    if (entry.in_flight >= options.batches_per_collector) {
      if (entry.in_flight == 0) admitted.erase(collector);
      ++counters().batches_overloaded;
      throw net::ApiError(503, "overloaded",
                          "this collector has " + std::to_string(options.batches_per_collector) +
                              " batches in flight already (limits.batches_per_collector); retry later")
          .with_header("Retry-After", "2");
    }
    if (entry.in_flight++ == 0) entry.strand = asio::make_strand(parse);
    return entry.strand;
  }

  void leave(const std::string& collector) {
    std::lock_guard lock(mutex);
    auto it = admitted.find(collector);
    if (it != admitted.end() && --it->second.in_flight == 0) admitted.erase(it);
  }

  // Queues `pending`; true when a writer must be started for it.
  bool enqueue(std::shared_ptr<Pending> pending) {
    std::lock_guard lock(mutex);
    const auto& collector = pending->batch->collector_id;
    auto& lane = lanes[collector];
    lane.queued.push_back(std::move(pending));
    if (!lane.writing && !lane.ready) {
      lane.ready = true;
      turns.push_back(collector);
    }
    if (running >= options.writers || turns.empty()) return false;
    ++running;
    return true;
  }

  // The next group: collectors in turn, each with as many of its queued batches as fit, up to
  // max_group batches and max_group_bytes (a single batch may pass the latter alone). None, and
  // the writer counted out, when no collector is waiting.
  Group take() {
    std::lock_guard lock(mutex);
    Group group;
    std::size_t bytes = 0;
    const auto fits = [&](const Pending& next) {
      return group.members.empty() ||
             (group.members.size() < options.max_group && bytes + next.bytes <= options.max_group_bytes);
    };
    while (!turns.empty() && fits(*lanes.at(turns.front()).queued.front())) {
      auto& lane = lanes.at(turns.front());
      group.collectors.push_back(std::move(turns.front()));
      turns.pop_front();
      lane.ready = false;
      lane.writing = true;
      while (!lane.queued.empty() && fits(*lane.queued.front())) {
        bytes += lane.queued.front()->bytes;
        group.members.push_back(std::move(lane.queued.front()));
        lane.queued.pop_front();
      }
    }
    if (group.members.empty()) --running;
    return group;
  }

  // After a group: its collectors wait for their next turn, at the back. Returns how many more
  // writers to start for collectors now waiting (the caller goes on itself).
  std::size_t release(const Group& group) {
    std::lock_guard lock(mutex);
    for (const auto& collector : group.collectors) {
      auto it = lanes.find(collector);
      it->second.writing = false;
      if (it->second.queued.empty()) {
        lanes.erase(it);
      } else {
        it->second.ready = true;
        turns.push_back(collector);
      }
    }
    const std::size_t waiting = turns.size() > 1 ? turns.size() - 1 : 0;
    const std::size_t more = std::min(waiting, options.writers - running);
    running += more;
    return more;
  }
};

namespace {

awaitable<void> store_alone(db::AsyncConnection& conn, Pending& pending, const InventoryLimits& inventory) {
  std::vector<StoreOutcome> outcomes;
  std::exception_ptr failure;
  try {
    const Batch* const one[] = {pending.batch.get()};
    const std::span<const Batch* const> batches(one);
    outcomes = co_await store_group(conn, batches, inventory);
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
awaitable<void> store_and_answer(IngestQueue::Impl& impl, const std::vector<std::shared_ptr<Pending>>& group) {
  std::vector<const Batch*> members;
  for (const auto& pending : group) members.push_back(pending->batch.get());
  const std::span<const Batch* const> batches(members);
  std::exception_ptr failure;
  try {
    auto lease = co_await impl.pool->acquire();
    std::vector<StoreOutcome> outcomes;
    bool one_by_one = false;
    try {
      outcomes = co_await store_group(*lease, batches, impl.options.inventory);
    } catch (const db::DbUnavailable&) {
      throw;
    } catch (...) {
      if (group.size() == 1) throw;
      one_by_one = true;
    }
    if (one_by_one) {
      for (const auto& pending : group) co_await store_alone(*lease, *pending, impl.options.inventory);
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
    if (group.members.empty()) co_return;
    co_await store_and_answer(*impl, group.members);
    for (auto more = impl->release(group); more > 0; --more)
      asio::co_spawn(impl->executor, write_queued(impl), asio::detached);
  }
}

}  // namespace

IngestQueue::IngestQueue(asio::any_io_executor executor, asio::any_io_executor parse, std::shared_ptr<db::PgPool> pool,
                         QueueOptions options)
    : impl_(std::make_shared<Impl>()) {
  impl_->executor = std::move(executor);
  impl_->parse = std::move(parse);
  impl_->pool = std::move(pool);
  impl_->options = options;
  impl_->options.writers = std::max<std::size_t>(1, options.writers);
  impl_->options.max_group = std::max<std::size_t>(1, options.max_group);
}

std::size_t IngestQueue::capacity() const { return impl_->options.writers * impl_->options.max_group; }

IngestQueue::Admission IngestQueue::admit(const std::string& collector_id) {
  auto strand = impl_->admit(collector_id);
  return Admission(impl_, collector_id, std::move(strand));
}

IngestQueue::Admission::Admission(std::shared_ptr<Impl> impl, std::string collector_id, asio::any_io_executor strand)
    : impl_(std::move(impl)), collector_id_(std::move(collector_id)), strand_(std::move(strand)) {}

IngestQueue::Admission::~Admission() { impl_->leave(collector_id_); }

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
