// Storing a group of validated batches: partitions first (DDL, outside the transaction so its
// locks are brief), then one transaction holding the batch records, the inventory, the query
// texts, one COPY per family and the seq bookkeeping. Nothing is visible until COMMIT; any failure
// rolls all of it back.
#include <algorithm>
#include <map>
#include <mutex>
#include <set>
#include <tuple>

#include "pganalytics/net/http.hpp"
#include "pganalytics/server/ingest.hpp"
#include "pganalytics/server/ingest_repository.hpp"

namespace pga::server::ingest {
namespace {

using boost::asio::awaitable;

bool lost_creation_race(const db::DbError& error) {
  // duplicate_table, or unique_violation on the catalog: another writer created it first.
  return error.sqlstate() == "42P07" || error.sqlstate() == "23505";
}

// "no partition of relation ... found for row": a COPY met a day without its partition.
bool missing_partition(const db::DbError& error) { return error.sqlstate() == "23514"; }

// The days whose partitions this process has created, so that a push pays create_partitions
// (PL/pgSQL scanning the catalog for every metric table) once per day rather than per batch.
// Maintenance keeps partitions days ahead and drops only days the parser already refuses as
// expired; a partition dropped any other way is caught by store_group, which forgets the day.
class EnsuredDays {
 public:
  bool contains(const std::string& day) const {
    std::lock_guard lock(mutex_);
    return days_.contains(day);
  }
  void add(const std::string& day) {
    std::lock_guard lock(mutex_);
    days_.insert(day);
    // "YYYY-MM-DD" sorts by date: past the bound, the oldest day goes, and with it one call saved.
    if (days_.size() > kMaxDays) days_.erase(days_.begin());
  }
  void forget(const std::set<std::string>& days) {
    std::lock_guard lock(mutex_);
    for (const auto& day : days) days_.erase(day);
  }

 private:
  static constexpr std::size_t kMaxDays = 1000;
  mutable std::mutex mutex_;
  std::set<std::string> days_;
};

EnsuredDays& ensured_days() {
  static EnsuredDays days;
  return days;
}

std::set<std::string> days_of(std::span<const Batch* const> batches) {
  std::set<std::string> days;
  for (const auto* batch : batches)
    for (const auto& sample : batch->samples) days.insert(format_day(sample.at_us));
  return days;
}

awaitable<void> create_partitions(db::AsyncConnection& conn, const std::string& day) {
  for (int attempt = 1;; ++attempt) {
    try {
      co_await repo::create_partitions(conn, day);
      co_return;
    } catch (const db::DbError& error) {
      if (attempt > 1 || !lost_creation_race(error)) throw;
    }
  }
}

// Returns whether a day was taken on trust from the cache, i.e. whether a missing partition
// may be the cache's fault.
awaitable<bool> ensure_partitions(db::AsyncConnection& conn, const std::set<std::string>& days) {
  bool trusted = false;
  for (const auto& day : days) {
    if (ensured_days().contains(day)) {
      trusted = true;
      continue;
    }
    co_await create_partitions(conn, day);
    ensured_days().add(day);
  }
  co_return trusted;
}

// A batch of the group and what storing it needs: its collector's ids once locked and claimed.
struct Member {
  const Batch* batch;
  std::size_t position;  // in the caller's list
  std::size_t claim;     // index into the group's distinct claims
  std::int64_t server_id = 0;
  std::vector<std::int64_t> owners;  // per sample: its instance's id, or server_id for host families
};

bool same_key(const Batch& a, const Batch& b) { return a.collector_id == b.collector_id && a.seq == b.seq; }

// The members in the order they are stored: by collector, then seq, so concurrent groups lock
// collectors in the same order and one collector's batches advance its bookkeeping in seq order.
std::vector<Member> members_of(std::span<const Batch* const> batches) {
  std::vector<std::size_t> order(batches.size());
  for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
    return std::tie(batches[a]->collector_id, batches[a]->seq) < std::tie(batches[b]->collector_id, batches[b]->seq);
  });
  std::vector<Member> members;
  for (const auto position : order) {
    const auto* batch = batches[position];
    // The same batch pushed twice into one group: one claim, the second answer says duplicate.
    const bool twin = !members.empty() && same_key(*members.back().batch, *batch);
    const std::size_t claim = twin ? members.back().claim : (members.empty() ? 0 : members.back().claim + 1);
    members.push_back({batch, position, claim});
  }
  return members;
}

std::vector<repo::BatchClaim> claims_of(const std::vector<Member>& members) {
  std::vector<repo::BatchClaim> claims;
  for (const auto& member : members) {
    if (member.claim < claims.size()) continue;
    const auto& batch = *member.batch;
    claims.push_back({batch.collector_id, batch.seq, format_timestamp(batch.sent_at_us),
                      static_cast<std::int64_t>(batch.row_count())});
  }
  return claims;
}

// Registers every instance the claimed members name, in one statement, and sets their owners.
awaitable<void> resolve_owners(db::AsyncConnection& conn, const std::vector<Member*>& claimed) {
  std::set<repo::InstanceName> names;
  for (const auto* member : claimed)
    for (const auto& sample : member->batch->samples)
      if (!sample.instance.empty()) names.insert({member->server_id, sample.instance});
  const std::vector<repo::InstanceName> sorted(names.begin(), names.end());
  std::map<repo::InstanceName, std::int64_t> ids;
  if (!sorted.empty()) ids = co_await repo::resolve_instances(conn, sorted);
  for (auto* member : claimed) {
    for (const auto& sample : member->batch->samples)
      member->owners.push_back(sample.instance.empty() ? member->server_id
                                                       : ids.at(repo::InstanceName{member->server_id, sample.instance}));
  }
}

awaitable<void> record_databases(db::AsyncConnection& conn, const std::vector<Member*>& claimed) {
  std::set<repo::DatabaseName> databases;
  for (const auto* member : claimed) {
    const auto& samples = member->batch->samples;
    for (std::size_t i = 0; i < samples.size(); ++i)
      for (const auto& datname : samples[i].datnames) databases.insert({member->owners[i], datname});
  }
  const std::vector<repo::DatabaseName> sorted(databases.begin(), databases.end());
  if (!sorted.empty()) co_await repo::upsert_databases(conn, sorted);
}

// The claimed members' inventories, now that their instances and databases are registered: a
// collector past its limits refuses the batch, and with it the group, stored again batch by
// batch. The collectors' rows are locked (lock_and_claim), so no other writer adds to them meanwhile.
awaitable<void> check_inventory(db::AsyncConnection& conn, const std::vector<Member*>& claimed,
                                const InventoryLimits& limits) {
  std::map<std::int64_t, const Batch*> servers;
  for (const auto* member : claimed) servers.emplace(member->server_id, member->batch);
  std::vector<std::int64_t> ids;
  for (const auto& server : servers) ids.push_back(server.first);
  const auto counts = co_await repo::inventory_counts(conn, ids);
  for (const auto& count : counts) {
    const auto& collector = servers.at(count.server_id)->collector_id;
    if (static_cast<std::size_t>(count.instances) > limits.max_instances)
      throw net::ApiError(400, "limit_exceeded",
                          "collector " + collector + " would report " + std::to_string(count.instances) +
                              " instances; at most " + std::to_string(limits.max_instances) +
                              " (limits.instances_per_collector)");
    if (static_cast<std::size_t>(count.databases) > limits.max_databases)
      throw net::ApiError(400, "limit_exceeded",
                          "collector " + collector + " would report " + std::to_string(count.databases) +
                              " databases; at most " + std::to_string(limits.max_databases) +
                              " (limits.databases_per_collector)");
  }
}

// A text may name an instance of its batch or of the group (registered by resolve_owners just
// before) or one an earlier batch registered; a name the server never saw refuses the batch, and
// with it the group, rolled back whole, each batch then stored again alone.
awaitable<void> store_query_texts(db::AsyncConnection& conn, const std::vector<Member*>& claimed) {
  std::set<repo::InstanceName> names;
  std::set<std::pair<repo::InstanceName, std::int64_t>> seen;
  std::vector<repo::ServerQueryText> texts;
  for (const auto* member : claimed) {
    for (const auto& text : member->batch->query_texts) {
      repo::InstanceName name{member->server_id, text.instance};
      // The first text of a query id wins, here as against the stored ones: later ones never go.
      if (!seen.emplace(name, text.queryid).second) continue;
      names.insert(std::move(name));
      texts.push_back({member->server_id, &text});
    }
  }
  if (texts.empty()) co_return;
  const std::vector<repo::InstanceName> sorted(names.begin(), names.end());
  const auto unknown = co_await repo::unknown_instances(conn, sorted);
  if (!unknown.empty())
    throw net::ApiError(400, "unknown_instance",
                        "query_texts names instance \"" + unknown.front().name +
                            "\", which neither this batch nor an earlier one of this collector has samples of");
  co_await repo::insert_query_texts(conn, texts);
}

// One COPY per family and column set over the rows of every claimed member: batches of agents
// of different versions may carry different columns of one family.
awaitable<void> copy_families(db::AsyncConnection& conn, const std::vector<Member*>& claimed) {
  std::map<std::pair<const metrics::Family*, std::vector<std::size_t>>, std::string> copies;
  for (const auto* member : claimed) {
    const auto& batch = *member->batch;
    for (std::size_t slot = 0; slot < batch.families.size(); ++slot) {
      const auto& family = batch.families[slot];
      append_copy_data(copies[{family.family, family.columns}], batch, slot, member->owners);
    }
  }
  // No structured bindings across co_await: GCC 12 mishandles them in coroutines.
  for (auto& copy : copies) {
    if (copy.second.empty()) continue;
    end_copy_data(copy.second);
    co_await repo::copy_rows(conn, *copy.first.first, copy.first.second, copy.second);
  }
}

awaitable<void> finish(db::AsyncConnection& conn, const Batch& batch) {
  std::int64_t explained = 0;
  if (!batch.dropped.empty()) explained = co_await repo::record_dropped_ranges(conn, batch.collector_id, batch.dropped);
  const repo::FinishedBatch finished{batch.collector_id, batch.seq, explained, batch.agent_version,
                                     batch.agent_hostname};
  co_await repo::finish_batch(conn, finished);
}

// Outcomes in the order of `members`.
awaitable<std::vector<StoreOutcome>> store_in_transaction(db::AsyncConnection& conn, std::vector<Member>& members,
                                                          const InventoryLimits& inventory) {
  const auto claims = claims_of(members);
  const auto collectors = co_await repo::lock_and_claim(conn, claims);
  std::vector<StoreOutcome> outcomes;
  std::vector<Member*> claimed;
  for (std::size_t i = 0; i < members.size(); ++i) {
    auto& member = members[i];
    const auto& collector = collectors[member.claim];
    const bool first = i == 0 || members[i - 1].claim != member.claim;
    const bool stored = first && collector.claimed;
    outcomes.push_back({!stored, collector.config_version});
    member.server_id = collector.server_id;
    member.owners.clear();
    if (stored) claimed.push_back(&member);
  }
  if (claimed.empty()) co_return outcomes;
  co_await resolve_owners(conn, claimed);
  co_await record_databases(conn, claimed);
  co_await check_inventory(conn, claimed, inventory);
  co_await store_query_texts(conn, claimed);
  co_await copy_families(conn, claimed);
  // One at a time, in seq order: each advances last_seq and missing_seq_count from the last.
  for (const auto* member : claimed) co_await finish(conn, *member->batch);
  co_return outcomes;
}

awaitable<std::vector<StoreOutcome>> store_once(db::AsyncConnection& conn, std::vector<Member>& members,
                                                const InventoryLimits& inventory) {
  std::vector<StoreOutcome> outcomes;
  co_await db::in_transaction(conn, [&]() -> awaitable<void> {
    outcomes = co_await store_in_transaction(conn, members, inventory);
  });
  co_return outcomes;
}

// Outcomes in the order of `members`, whatever the retry.
awaitable<std::vector<StoreOutcome>> store_members(db::AsyncConnection& conn, std::vector<Member>& members,
                                                   const std::set<std::string>& days, const InventoryLimits& inventory) {
  const bool trusted_cache = co_await ensure_partitions(conn, days);
  try {
    co_return co_await store_once(conn, members, inventory);
  } catch (const db::DbError& error) {
    if (!trusted_cache || !missing_partition(error)) throw;
  }
  // A cached day lost its partitions behind this process's back; the attempt was rolled back
  // whole, so it is made again once with every day ensured for real.
  ensured_days().forget(days);
  co_await ensure_partitions(conn, days);
  co_return co_await store_once(conn, members, inventory);
}

}  // namespace

awaitable<std::vector<StoreOutcome>> store_group(db::AsyncConnection& conn, std::span<const Batch* const> batches,
                                                 const InventoryLimits& inventory) {
  const auto days = days_of(batches);
  auto members = members_of(batches);
  const auto sorted = co_await store_members(conn, members, days, inventory);
  std::vector<StoreOutcome> outcomes(batches.size());
  for (std::size_t i = 0; i < members.size(); ++i) outcomes[members[i].position] = sorted[i];
  co_return outcomes;
}

}  // namespace pga::server::ingest
