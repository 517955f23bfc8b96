// SizeCache without a database: which objects are sized in a cycle (new, changed, spread refresh,
// the minimum interval) and what the other cycles reuse.
#include <doctest/doctest.h>

#include <algorithm>

#include "pganalytics/agent/collectors/size_cache.hpp"

using namespace pga::agent::collectors;
using namespace std::chrono_literals;
using Ids = std::vector<std::int64_t>;

namespace {

std::vector<SizedObject> objects(std::int64_t count, const std::string& fingerprint = "a") {
  std::vector<SizedObject> out;
  for (std::int64_t id = 1; id <= count; ++id) out.push_back({id, fingerprint});
  return out;
}

Ids sorted(Ids ids) {
  std::sort(ids.begin(), ids.end());
  return ids;
}

void store_all(SizeCache& cache, const Ids& ids, const std::string& fingerprint, SizeCache::Clock::time_point now) {
  for (auto id : ids) cache.store(id, fingerprint, {pga::metrics::Cell{id * 100}}, now);
}

}  // namespace

TEST_CASE("the first cycle sizes everything, an unchanged cycle right after sizes nothing") {
  SizeCache cache(5min);
  const auto t0 = SizeCache::Clock::now();
  const auto first = cache.due(objects(4), t0);
  CHECK(sorted(first) == Ids{1, 2, 3, 4});
  store_all(cache, first, "a", t0);
  CHECK(cache.due(objects(4), t0 + 1ms).empty());
  REQUIRE(cache.sizes(3) != nullptr);
  CHECK(std::get<std::int64_t>((*cache.sizes(3))[0]) == 300);
  CHECK(cache.sizes(9) == nullptr);
}

TEST_CASE("a changed fingerprint sizes that object again at once") {
  SizeCache cache(5min);
  const auto t0 = SizeCache::Clock::now();
  store_all(cache, cache.due(objects(3), t0), "a", t0);
  auto now = objects(3);
  now[1].fingerprint = "b";
  CHECK(cache.due(now, t0 + 1ms) == Ids{2});
}

TEST_CASE("unchanged objects are refreshed a share per cycle, each within max_age") {
  SizeCache cache(60s);
  auto t = SizeCache::Clock::now();
  store_all(cache, cache.due(objects(60), t), "a", t);
  std::map<std::int64_t, int> times_sized;
  // 10 s cycles: a sixth of 60 objects per cycle, the longest unsized first.
  for (int cycle = 1; cycle <= 6; ++cycle) {
    t += 10s;
    const auto due = cache.due(objects(60), t);
    CHECK(due.size() == 10);
    for (auto id : due) ++times_sized[id];
    store_all(cache, due, "a", t);
  }
  CHECK(times_sized.size() == 60);  // every object once in max_age, none twice
  // After a long pause everything older than max_age goes at once.
  CHECK(cache.due(objects(60), t + 61s).size() == 60);
}

TEST_CASE("a changed object waits for min_interval; an object gone is forgotten") {
  SizeCache cache(5min, 1min);
  const auto t0 = SizeCache::Clock::now();
  store_all(cache, cache.due(objects(2), t0), "a", t0);
  auto changed = objects(2);
  changed[0].fingerprint = "b";
  CHECK(cache.due(changed, t0 + 5s).empty());
  CHECK(cache.due(changed, t0 + 61s) == Ids{1});
  // Object 2 vanishes, then comes back (a new database with a reused oid): sized as new.
  cache.due({changed[0]}, t0 + 62s);
  CHECK(cache.sizes(2) == nullptr);
  const auto again = cache.due(objects(2), t0 + 63s);
  CHECK(std::find(again.begin(), again.end(), 2) != again.end());
}
