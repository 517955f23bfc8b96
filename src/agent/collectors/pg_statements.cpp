// The pg_statements collector: finds the extension, reads every entry without texts each cycle,
// keeps the ones that grew most, and fetches a text only for a statement it has not sent before.
#include <algorithm>
#include <charconv>
#include <set>

#include "pganalytics/agent/collectors/pg_statements.hpp"
#include "pganalytics/common/log.hpp"

namespace pga::agent::collectors {
namespace {

using boost::asio::awaitable;
using namespace std::chrono_literals;

// A missing or unusable extension needs a DBA to act: looking again this rarely costs nothing and
// keeps the log to one line.
constexpr auto kProbeInterval = 10min;
// Texts waiting for the next batch, all instances together, each up to 16 KiB: bounds a batch even
// on a first read of thousands of statements; the rest follow in the next cycles.
constexpr std::size_t kMaxPendingTexts = 500;
// How often every entry is read rather than the moved ones only.
constexpr auto kFullReadInterval = 10min;

// A text belongs to a statement whatever its nesting level.
struct TextKey {
  std::int64_t dbid;
  std::int64_t userid;
  std::int64_t queryid;
  auto operator<=>(const TextKey&) const = default;
};

TextKey text_key(const StatementKey& key) { return {key.dbid, key.userid, key.queryid}; }

struct Layout {
  ExtensionVersion version;
  std::string schema;  // quoted by PostgreSQL's format('%I')
};

// What the DBA must do when reading pg_stat_statements fails with `error`; empty when the failure
// is of another kind (timeout, changed extension) and the next cycle may simply try again.
std::string unusable_because(const db::DbError& error) {
  if (error.sqlstate() == "55000")
    return "pg_stat_statements is installed but not loaded: add it to shared_preload_libraries and restart PostgreSQL";
  if (error.sqlstate() == "42501")
    return "the agent's role may not read pg_stat_statements: GRANT pg_read_all_stats (or EXECUTE on the function) "
           "to it";
  return {};
}

// Each row of a pg_statements sample as its key and totals.
std::vector<StatementReading> readings_of(const metrics::Sample& sample) {
  const auto position = [&](std::string_view name) {
    return static_cast<std::size_t>(std::find(sample.columns.begin(), sample.columns.end(), name) -
                                    sample.columns.begin());
  };
  const auto dbid = position("dbid"), userid = position("userid"), queryid = position("queryid"),
             toplevel = position("toplevel"), calls = position("calls"), time = position("total_exec_time");
  const auto integer = [](const metrics::Cell& cell) {
    const auto* value = std::get_if<std::int64_t>(&cell);
    return value ? *value : 0;
  };
  std::vector<StatementReading> readings;
  readings.reserve(sample.rows.size());
  for (const auto& row : sample.rows) {
    const auto* top = std::get_if<bool>(&row[toplevel]);
    const auto* total = std::get_if<double>(&row[time]);
    readings.push_back({{integer(row[dbid]), integer(row[userid]), integer(row[queryid]), top ? *top : true},
                        {integer(row[calls]), total ? *total : 0.0}});
  }
  return readings;
}

// The known entries as the five array parameters of pg_statements_sql.
std::vector<std::string> known_arrays(const StatementTotalsByKey& known) {
  std::vector<std::string> arrays(5, "{");
  for (const auto& [key, totals] : known) {
    const auto separator = arrays[0].size() > 1 ? "," : "";
    arrays[0] += separator + std::to_string(key.dbid);
    arrays[1] += separator + std::to_string(key.userid);
    arrays[2] += separator + std::to_string(key.queryid);
    arrays[3] += separator + std::string(key.toplevel ? "t" : "f");
    arrays[4] += separator + std::to_string(totals.calls);
  }
  for (auto& array : arrays) array += '}';
  return arrays;
}

class PgStatementsCollector : public Collector {
 public:
  PgStatementsCollector(std::shared_ptr<PgSession> session, std::size_t top_n, std::vector<metrics::QueryText>& texts)
      : session_(std::move(session)), top_n_(top_n), sink_(texts) {}
  const std::string& family() const override { return family_; }
  const std::string& instance() const override { return session_->instance(); }

  // One read returns the entries whose calls moved since the last read (new ones included): an
  // idle entry costs its place in the parameters, not fifty formatted columns every cycle.
  awaitable<std::vector<metrics::Sample>> collect() override {
    std::vector<metrics::Sample> samples;
    if (!layout_) {
      if (std::chrono::steady_clock::now() < next_probe_) co_return samples;
      co_await probe();
      if (!layout_) co_return samples;
    }
    // Now and then every entry, so the known ones evicted meanwhile are forgotten.
    const bool full = !known_ || std::chrono::steady_clock::now() >= next_full_read_;
    const auto known = known_arrays(full ? StatementTotalsByKey{} : *known_);
    const auto sql = pg_statements_sql(layout_->version, layout_->schema);
    const auto at = std::chrono::system_clock::now();
    auto result = co_await read(sql, known);
    if (!result) co_return samples;
    auto sample = sample_from_result(family_, instance(), at, *result);
    const auto readings = readings_of(sample);
    const auto chosen = select_statements(readings, known_ ? &*known_ : nullptr, top_n_);
    auto texts = co_await fetch_owed_texts(readings, chosen);
    remember(readings, full);
    std::vector<metrics::Row> rows;
    rows.reserve(chosen.size());
    for (auto i : chosen) rows.push_back(std::move(sample.rows[i]));
    sample.rows = std::move(rows);
    // Handed over with the samples, without a suspension between: both go into the same batch.
    for (auto& text : texts) sink_.push_back(std::move(text));
    if (!sample.rows.empty()) samples.push_back(std::move(sample));
    co_return samples;
  }

 private:
  awaitable<void> probe() {
    const int version = co_await session_->server_version_num();
    const auto sql = pg_statements_probe_sql(version);
    auto found = co_await session_->query(sql.c_str());
    if (found.rows() == 0) {
      disable(
          "pg_stat_statements is not installed in the database the agent connects to: run CREATE EXTENSION "
          "pg_stat_statements there (with pg_stat_statements in shared_preload_libraries)");
      co_return;
    }
    const auto parsed = parse_extension_version(found.get(0, 0));
    if (!parsed) {
      disable("pg_stat_statements reports a version this agent does not understand: " + std::string(found.get(0, 0)));
      co_return;
    }
    if (found.get(0, 2) != "t" && !warned_partial_view_) {
      log::warn("{} {}: the agent's role sees only its own statements: GRANT pg_read_all_stats to it", family_,
                instance());
      warned_partial_view_ = true;
    }
    layout_ = Layout{*parsed, std::string(found.get(0, 1))};
  }

  // Runs the read of pg_stat_statements; nullopt when it found the extension unusable (logged,
  // and probed again later). Other failures throw: the next cycle tries again.
  awaitable<std::optional<db::PgResult>> read(const std::string& sql, const std::vector<std::string>& known) {
    std::optional<db::PgResult> result;
    std::string unusable;
    try {
      result = co_await session_->exec(sql.c_str(), known[0], known[1], known[2], known[3], known[4]);
    } catch (const db::DbUnavailable&) {
      throw;
    } catch (const db::DbError& error) {
      // The extension may have been updated or dropped since the probe: probe before the next read.
      layout_.reset();
      unusable = unusable_because(error);
      if (unusable.empty()) throw;
    }
    if (!result) {
      disable(std::move(unusable));
      co_return result;
    }
    if (!disabled_because_.empty()) {
      log::info("{} {}: pg_stat_statements can be read again", family_, instance());
      disabled_because_.clear();
    }
    co_return result;
  }

  void disable(std::string reason) {
    layout_.reset();
    next_probe_ = std::chrono::steady_clock::now() + kProbeInterval;
    if (reason != disabled_because_)
      log::warn("{} {}: {}; not collected until then (looked at again every {} minutes)", family_, instance(), reason,
                kProbeInterval.count());
    disabled_because_ = std::move(reason);
  }

  // The texts owed for the entries sent so far (the chosen ones included), as many as the next batch
  // has room for. A failure costs the texts only: the figures go out, the texts stay owed.
  awaitable<std::vector<metrics::QueryText>> fetch_owed_texts(const std::vector<StatementReading>& readings,
                                                              const std::vector<std::size_t>& chosen) {
    for (auto i : chosen) {
      const auto key = text_key(readings[i].key);
      if (!texts_sent_.contains(key)) texts_owed_.insert(key);
    }
    const auto room = kMaxPendingTexts - std::min(kMaxPendingTexts, sink_.size());
    std::set<TextKey> wanted;
    for (const auto& key : texts_owed_) {
      if (wanted.size() == room) break;
      wanted.insert(key);
    }
    std::vector<metrics::QueryText> texts;
    if (wanted.empty()) co_return texts;
    std::set<std::int64_t> queryids;
    for (const auto& key : wanted) queryids.insert(key.queryid);
    const auto ids = id_array(queryids);
    const auto sql = pg_statements_texts_sql(layout_->schema);
    std::optional<db::PgResult> found;
    try {
      found = co_await session_->exec(sql.c_str(), ids);
    } catch (const db::DbError& error) {
      if (!texts_failing_) log::warn("{} {}: query texts not read: {}", family_, instance(), log::redact(error.what()));
      texts_failing_ = true;
    }
    if (!found) co_return texts;
    texts_failing_ = false;
    for (int r = 0; r < found->rows(); ++r) {
      const TextKey key{found->get_int(r, 0), found->get_int(r, 1), found->get_int(r, 2)};
      if (found->is_null(r, 3) || !wanted.contains(key)) continue;
      texts.push_back({instance(), key.queryid, key.dbid, key.userid, bounded_query_text(found->get(r, 3))});
    }
    // A text that was not there (its entry just evicted) is not asked for again every cycle.
    for (const auto& key : wanted) {
      texts_owed_.erase(key);
      texts_sent_.insert(key);
    }
    co_return texts;
  }

  // This read becomes the base of the next growth. A full read replaces what is known, so
  // statements gone from pg_stat_statements are forgotten and memory follows
  // pg_stat_statements.max, not uptime; a partial one updates the entries it returned.
  void remember(const std::vector<StatementReading>& readings, bool full) {
    if (full || !known_) known_.emplace();
    for (const auto& reading : readings) (*known_)[reading.key] = reading.totals;
    if (!full) return;
    next_full_read_ = std::chrono::steady_clock::now() + kFullReadInterval;
    std::set<TextKey> present;
    for (const auto& reading : readings) present.insert(text_key(reading.key));
    const auto gone = [&](const TextKey& key) { return !present.contains(key); };
    std::erase_if(texts_sent_, gone);
    std::erase_if(texts_owed_, gone);
  }

  const std::string family_ = "pg_statements";
  std::shared_ptr<PgSession> session_;
  std::size_t top_n_;
  std::vector<metrics::QueryText>& sink_;
  std::optional<Layout> layout_;
  std::string disabled_because_;  // what the last warning said; empty while collecting
  std::chrono::steady_clock::time_point next_probe_{};
  bool warned_partial_view_ = false;
  bool texts_failing_ = false;
  std::optional<StatementTotalsByKey> known_;  // calls and time of every entry, as last read
  std::chrono::steady_clock::time_point next_full_read_{};
  std::set<TextKey> texts_sent_;  // this run sent their text (or found none)
  std::set<TextKey> texts_owed_;  // their entries were sent, their text not yet
};

}  // namespace

CollectorPtr make_pg_statements(std::shared_ptr<PgSession> session, std::int64_t top_n,
                                std::vector<metrics::QueryText>& texts) {
  return std::make_unique<PgStatementsCollector>(std::move(session), static_cast<std::size_t>(top_n), texts);
}

}  // namespace pga::agent::collectors
