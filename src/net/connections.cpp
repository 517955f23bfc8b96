// Who may connect (issue 11.2): one anonymous client must not lock everyone out. Connections are
// counted per address and in total; near the cap the oldest idle kept-alive connections make room
// for new ones (anonymous ones first); the last places under the cap go only to clients whose
// certificate verifies, so agents are never starved by anonymous connections. Also the budget of
// bytes being inflated at once, and the open-file limit the cap derives from.
#include "pganalytics/net/server_session.hpp"

#include "pganalytics/net/address_key.hpp"

#include <sys/resource.h>

#include <algorithm>

namespace pga::net {

std::size_t connection_capacity(std::size_t reserved_files, std::size_t ceiling) {
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) != 0) return std::min<std::size_t>(ceiling, 1024);
  if (limit.rlim_cur < limit.rlim_max && limit.rlim_max != RLIM_INFINITY) {
    rlimit raised = limit;
    raised.rlim_cur = limit.rlim_max;
    if (setrlimit(RLIMIT_NOFILE, &raised) == 0) limit = raised;
  }
  const auto files = static_cast<std::size_t>(limit.rlim_cur == RLIM_INFINITY ? ceiling + reserved_files : limit.rlim_cur);
  constexpr std::size_t kAtLeast = 16;
  return std::min(ceiling, files > reserved_files + kAtLeast ? files - reserved_files : kAtLeast);
}

namespace detail {

Connections::Connections(const ServerLimits& limits) : limits_(limits) {}

Admission Connections::admit(const boost::asio::ip::address& address) {
  Admission admission;
  admission.address = address_key(address);
  const std::size_t cap = limits_.max_connections;
  const std::size_t near_cap = cap - std::max<std::size_t>(1, cap / 16);
  const std::size_t anonymous_cap = cap - std::min(limits_.reserved_for_certificates, cap);
  std::vector<std::shared_ptr<Connection>> victims;
  {
    std::lock_guard lock(mutex_);
    auto& from = addresses_[admission.address];
    bool room = from.anonymous < limits_.max_connections_per_address || take_oldest(from.idle, victims);
    if (room && open_ >= near_cap && !take_oldest(idle_anonymous_, victims) && open_ >= cap)
      take_oldest(idle_verified_, victims);
    room = room && open_ < cap;
    if (room) {
      if (anonymous_ >= anonymous_cap) take_oldest(idle_anonymous_, victims);
      admission.probation = anonymous_ >= anonymous_cap;
      admission.admitted = true;
      ++open_;
      ++anonymous_;
      ++from.anonymous;
    } else {
      forget_address_if_unused(admission.address);
    }
  }
  // Outside the lock: a victim closing runs closed(), which takes it.
  for (const auto& victim : victims) victim->evict();
  ++(admission.admitted ? accepted_ : refused_);
  return admission;
}

void Connections::track(const std::shared_ptr<Connection>& connection, const Admission& admission) {
  std::lock_guard lock(mutex_);
  live_.emplace(connection.get(), Entry{connection, admission.address, true, true, admission.probation, 0});
}

bool Connections::handshake_done(const Connection* connection, bool verified_certificate) {
  std::lock_guard lock(mutex_);
  auto it = live_.find(connection);
  if (it == live_.end()) return false;
  Entry& entry = it->second;
  if (verified_certificate && entry.anonymous) {
    if (entry.counted) {
      --anonymous_;
      --addresses_[entry.address].anonymous;
    }
    entry.anonymous = false;
    forget_address_if_unused(entry.address);
  }
  return verified_certificate || !entry.probation;
}

void Connections::set_idle(const Connection* connection, bool idle) {
  std::lock_guard lock(mutex_);
  auto it = live_.find(connection);
  if (it == live_.end() || !it->second.counted) return;
  Entry& entry = it->second;
  if (!idle) {
    leave_idle(entry, connection);
    return;
  }
  if (entry.idle_since != 0) return;
  entry.idle_since = ++idle_order_;
  const std::pair key{entry.idle_since, connection};
  if (entry.anonymous) {
    idle_anonymous_.insert(key);
    addresses_[entry.address].idle.insert(key);
  } else {
    idle_verified_.insert(key);
  }
}

void Connections::closed(const Connection* connection) noexcept {
  std::lock_guard lock(mutex_);
  auto it = live_.find(connection);
  if (it == live_.end()) return;
  uncount(it->second, connection);
  const std::string address = std::move(it->second.address);
  live_.erase(it);
  forget_address_if_unused(address);
}

void Connections::close_all(bool force) {
  std::vector<std::shared_ptr<Connection>> connections;
  {
    std::lock_guard lock(mutex_);
    for (auto& [key, entry] : live_)
      if (auto connection = entry.connection.lock()) connections.push_back(std::move(connection));
  }
  // Outside the lock: dropping the last reference runs ~Session, which takes the lock.
  for (auto& connection : connections) connection->close_from_outside(force);
}

std::size_t Connections::open() const {
  std::lock_guard lock(mutex_);
  return open_;
}

std::size_t Connections::alive() const {
  std::lock_guard lock(mutex_);
  return live_.size();
}

bool Connections::take_oldest(IdleSet& set, std::vector<std::shared_ptr<Connection>>& victims) {
  if (set.empty()) return false;
  const Connection* connection = set.begin()->second;
  Entry& entry = live_.at(connection);
  uncount(entry, connection);
  if (auto victim = entry.connection.lock()) victims.push_back(std::move(victim));
  ++evicted_;
  return true;
}

void Connections::leave_idle(Entry& entry, const Connection* connection) {
  if (entry.idle_since == 0) return;
  const std::pair key{entry.idle_since, connection};
  idle_anonymous_.erase(key);
  idle_verified_.erase(key);
  if (auto address = addresses_.find(entry.address); address != addresses_.end()) address->second.idle.erase(key);
  entry.idle_since = 0;
}

// Never erases the address: admit() holds a reference to one while it evicts.
void Connections::uncount(Entry& entry, const Connection* connection) {
  leave_idle(entry, connection);
  if (!entry.counted) return;
  entry.counted = false;
  --open_;
  if (entry.anonymous) {
    --anonymous_;
    --addresses_[entry.address].anonymous;
  }
}

void Connections::forget_address_if_unused(const std::string& address) {
  auto it = addresses_.find(address);
  if (it != addresses_.end() && it->second.anonymous == 0 && it->second.idle.empty()) addresses_.erase(it);
}

InflateBudget::Lease& InflateBudget::Lease::operator=(Lease&& other) noexcept {
  if (this != &other) {
    if (budget_) budget_->used_.fetch_sub(bytes_);
    budget_ = std::exchange(other.budget_, nullptr);
    bytes_ = other.bytes_;
  }
  return *this;
}

InflateBudget::Lease::~Lease() {
  if (budget_) budget_->used_.fetch_sub(bytes_);
}

std::optional<InflateBudget::Lease> InflateBudget::take(std::size_t bytes) {
  std::size_t used = used_.load();
  do {
    if (bytes > limit_ || used > limit_ - bytes) {
      ++refused_;
      return std::nullopt;
    }
  } while (!used_.compare_exchange_weak(used, used + bytes));
  return Lease(this, bytes);
}

}  // namespace detail
}  // namespace pga::net
