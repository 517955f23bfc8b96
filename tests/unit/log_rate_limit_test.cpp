// The log storm guard: rows per event type are bounded per window, folded rows count exactly,
// their figures add up, and attributes survive only where all folded events agreed.
#include <doctest/doctest.h>

#include <numeric>

#include "pganalytics/agent/log/rate_limit.hpp"

using namespace pga::agent::log;

namespace {

LogEvent statement(int i, std::string message) {
  LogEvent e;
  e.type = EventType::SlowStatement;
  e.severity = "LOG";
  e.message = std::move(message);
  e.duration_ms = 0.5 * (i % 7);
  e.database = "shop";
  e.pid = 100 + i % 5;
  return e;
}

std::int64_t occurrences(const std::vector<LogEvent>& rows, EventType type) {
  return std::accumulate(rows.begin(), rows.end(), std::int64_t{0},
                         [&](std::int64_t n, const LogEvent& e) { return n + (e.type == type ? e.occurrences : 0); });
}

}  // namespace

TEST_CASE("a storm folds into one row per message beyond the limit, counts exact") {
  RateLimiter limiter{{.rows_per_event = 1000, .groups_per_event = 100}};
  double total_ms = 0;
  for (int i = 0; i < 2500; ++i) {
    LogEvent e = statement(i, "duration: ? ms  statement: select ?" + std::string(i % 3, '!'));
    total_ms += *e.duration_ms;
    limiter.add(std::move(e));
  }
  LogEvent checkpoint;
  checkpoint.type = EventType::Checkpoint;
  limiter.add(std::move(checkpoint));
  CHECK(limiter.seen(EventType::SlowStatement) == 2500);

  auto rows = limiter.take();
  REQUIRE(rows.size() == 1000 + 3 + 1);
  CHECK(occurrences(rows, EventType::SlowStatement) == 2500);
  CHECK(occurrences(rows, EventType::Checkpoint) == 1);
  double row_ms = 0;
  for (const LogEvent& e : rows)
    if (e.duration_ms) row_ms += *e.duration_ms;
  CHECK(row_ms == doctest::Approx(total_ms));
  for (std::size_t i = 0; i < 1000; ++i) CHECK(rows[i].occurrences == 1);
  // Folded rows sit where their group began: 1500 statements left over, 500 per message.
  for (std::size_t i = 1000; i < 1003; ++i) {
    CHECK(rows[i].occurrences == 500);
    CHECK(rows[i].database == "shop");  // shared by all
    CHECK_FALSE(rows[i].pid);           // differed
    CHECK(rows[i].message.starts_with("duration: ? ms  statement: select ?"));
  }
  CHECK(rows[1003].type == EventType::Checkpoint);

  CHECK(limiter.take().empty());  // a new window
  CHECK(limiter.seen(EventType::SlowStatement) == 0);
}

TEST_CASE("too many distinct messages share one row with a NULL message") {
  RateLimiter limiter{{.rows_per_event = 2, .groups_per_event = 3}};
  for (int i = 0; i < 20; ++i) limiter.add(statement(i, "message " + std::to_string(i)));
  auto rows = limiter.take();
  REQUIRE(rows.size() == 2 + 3 + 1);
  CHECK(rows[5].message.empty());
  CHECK(rows[5].occurrences == 20 - 2 - 3);
  CHECK(occurrences(rows, EventType::SlowStatement) == 20);
}

TEST_CASE("each event type has its own budget") {
  RateLimiter limiter{{.rows_per_event = 1, .groups_per_event = 10}};
  for (EventType type : {EventType::Error, EventType::Error, EventType::TempFile, EventType::TempFile}) {
    LogEvent e;
    e.type = type;
    e.temp_file_bytes = type == EventType::TempFile ? std::optional<std::int64_t>{1000} : std::nullopt;
    limiter.add(std::move(e));
  }
  auto rows = limiter.take();
  REQUIRE(rows.size() == 4);  // one kept + one folded per type
  CHECK(rows[1].type == EventType::Error);
  CHECK(rows[1].occurrences == 1);
  CHECK(rows[3].temp_file_bytes == 1000);
  CHECK_FALSE(rows[1].temp_file_bytes);
}
