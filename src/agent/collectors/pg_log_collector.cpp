// The pg_log collector: reads the server's logging settings per connection, follows the log they
// point to through a LogTail, and commits the read position only once the events are spooled.
#include "pganalytics/agent/collectors/pg_log_collector.hpp"

#include <algorithm>
#include <cctype>
#include <chrono>

#include "pganalytics/agent/collectors/pg_log_source.hpp"
#include "pganalytics/agent/collectors/pg_log_tail.hpp"
#include "pganalytics/common/log.hpp"

namespace pga::agent::collectors {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

// Besides on every new connection, settings are read again this often, so a reload that changes
// log_line_prefix or log_directory is noticed without a reconnect.
constexpr auto kSettingsRefresh = 60s;
// A reported problem (logging off, file unreadable) is looked at again this rarely.
constexpr auto kRecheck = 5min;

struct SettingField {
  const char* name;
  std::string ServerLogSettings::*member;
};
constexpr SettingField kSettingFields[] = {
    {"log_destination", &ServerLogSettings::log_destination},
    {"logging_collector", &ServerLogSettings::logging_collector},
    {"log_directory", &ServerLogSettings::log_directory},
    {"log_filename", &ServerLogSettings::log_filename},
    {"data_directory", &ServerLogSettings::data_directory},
    {"log_line_prefix", &ServerLogSettings::log_line_prefix},
    {"log_timezone", &ServerLogSettings::log_timezone},
};

// pg_settings rather than current_setting(): a setting hidden from the role is a missing row, not
// an error, so the choice can say which grant is missing.
const char* settings_sql() {
  static const std::string sql = [] {
    std::string names;
    for (const auto& field : kSettingFields) names += std::string(names.empty() ? "'" : ", '") + field.name + "'";
    return "SELECT name, setting FROM pg_settings WHERE name IN (" + names + ")";
  }();
  return sql.c_str();
}

ServerLogSettings settings_from(const db::PgResult& rows) {
  ServerLogSettings settings;
  for (int r = 0; r < rows.rows(); ++r)
    for (const auto& field : kSettingFields)
      if (rows.get(r, 0) == field.name) settings.*field.member = std::string(rows.get(r, 1));
  return settings;
}

// The server's abbreviation set, then log_timezone's own current abbreviation, which wins where
// the set means another zone (its IST is Israel's; an Indian server's IST is India's).
constexpr const char* kZonesSql =
    "SELECT abbrev, extract(epoch FROM utc_offset)::bigint FROM ("
    "SELECT abbrev, utc_offset, 0 AS rank FROM pg_timezone_abbrevs UNION ALL "
    "SELECT abbrev, utc_offset, 1 FROM pg_timezone_names WHERE name = current_setting('log_timezone')) z "
    "ORDER BY rank";

agent::log::TimeZones zones_from(const db::PgResult& rows) {
  agent::log::TimeZones zones;
  for (int r = 0; r < rows.rows(); ++r)
    zones.add(std::string(rows.get(r, 0)), std::chrono::seconds(rows.get_int(r, 1)));
  return zones;
}

std::string file_name_part(std::string_view instance) {
  std::string out(instance);
  std::replace_if(
      out.begin(), out.end(),
      [](unsigned char c) { return !(std::isalnum(c) || c == '-' || c == '_' || c == '.'); }, '_');
  return out;
}

class PgLogCollector final : public Collector {
 public:
  PgLogCollector(std::shared_ptr<PgSession> session, const InstanceConfig& instance, const fs::path& state_dir)
      : session_(std::move(session)), log_path_(instance.log_path), state_dir_(state_dir / "log") {
    limits_.rows_per_event = static_cast<std::size_t>(instance.log_rows_per_event);
  }

  const std::string& family() const override { return family_; }
  const std::string& instance() const override { return session_->instance(); }

  boost::asio::awaitable<std::vector<metrics::Sample>> collect() override {
    std::vector<metrics::Sample> none;
    const auto now = Clock::now();
    if (now < quiet_until_) co_return none;
    if (settings_due(now)) co_await refresh_settings(now);
    // Nothing is awaited from here on: the tail's position must be the end of the events this
    // call returns, whatever runs (a seal of the spool included) while a collect is suspended.
    if (!choice_->source) {
      report(choice_->problem, now);
      co_return none;
    }
    if (!ensure_tail()) co_return none;
    auto read = tail_->read(std::chrono::system_clock::now());
    if (!read.poll.error.empty()) report(tail_->source().explain(read.poll.error), now);
    else clear_problem();
    note_file();
    co_return std::move(read.samples);
  }

  void on_spooled() override {
    if (!tail_) return;
    const auto ec = tail_->commit();
    if (ec && !commit_failing_)
      pga::log::warn("pg_log {}: cannot save the log position below {}: {}; after a restart, events since the last "
                     "saved position would be sent again",
                     instance(), state_dir_.string(), ec.message());
    commit_failing_ = static_cast<bool>(ec);
  }

 private:
  bool settings_due(Clock::time_point now) const {
    return !choice_ || recheck_ || session_->connections_opened() != settings_connection_ ||
           now - settings_read_at_ >= kSettingsRefresh;
  }

  // Until the settings were read once, a failure fails the collection. After that the log is
  // followed where it last was: the log of a server that is down or restarting matters most.
  boost::asio::awaitable<void> refresh_settings(Clock::time_point now) {
    ServerLogSettings settings;
    bool read = false;
    try {
      auto rows = co_await session_->query(settings_sql());
      settings = settings_from(rows);
      if (!zones_ || zones_timezone_ != settings.log_timezone) {
        auto zone_rows = co_await session_->query(kZonesSql);
        zones_ = zones_from(zone_rows);
        zones_timezone_ = settings.log_timezone;
      }
      read = true;
    } catch (const db::DbError&) {
      if (!choice_) throw;
    }
    if (!read) co_return;
    settings_connection_ = session_->connections_opened();
    settings_read_at_ = now;
    recheck_ = false;
    choice_ = choose_log_source(settings, log_path_);
  }

  // A tail for the chosen source. A new tail resumes from the state file, so it replaces the old
  // one only once that file holds everything the old one returned; until then, nothing is read.
  bool ensure_tail() {
    const LogSource& wanted = *choice_->source;
    if (tail_ && tail_->source() == wanted) return true;
    if (tail_ && tail_->uncommitted()) return false;
    forget_other_formats(wanted.format);
    LogTailOptions options;
    options.instance = instance();
    options.state_file = state_file(wanted.format);
    options.limits = limits_;
    tail_ = std::make_unique<LogTail>(wanted, *zones_, std::move(options));
    return true;
  }

  fs::path state_file(agent::log::Format format) const {
    return state_dir_ / (file_name_part(instance()) + "-" + std::string(agent::log::format_name(format)) + ".json");
  }

  // A position in another format's file is stale once the server writes this one; switching back
  // later must start afresh rather than resume in the middle of an old file.
  void forget_other_formats(agent::log::Format keep) const {
    for (auto format : {agent::log::Format::Stderr, agent::log::Format::Csv, agent::log::Format::Json}) {
      std::error_code ignored;
      if (format != keep) fs::remove(state_file(format), ignored);
    }
  }

  void note_file() {
    auto file = tail_->file();
    if (!file || file == followed_) return;
    pga::log::info("pg_log {}: reading {} ({})", instance(), file->string(),
                   agent::log::format_name(tail_->source().format));
    followed_ = std::move(file);
  }

  void report(const std::string& problem, Clock::time_point now) {
    if (problem != reported_)
      pga::log::warn("pg_log {}: {} (log events of this instance are not collected; checked again every {} minutes)",
                     instance(), problem, std::chrono::duration_cast<std::chrono::minutes>(kRecheck).count());
    reported_ = problem;
    quiet_until_ = now + kRecheck;
    recheck_ = true;
  }

  void clear_problem() {
    if (reported_.empty()) return;
    pga::log::info("pg_log {}: collecting log events again", instance());
    reported_.clear();
  }

  const std::string family_ = "pg_log";
  std::shared_ptr<PgSession> session_;
  std::string log_path_;
  fs::path state_dir_;
  agent::log::RateLimits limits_;
  std::optional<LogSourceChoice> choice_;  // empty until the settings were read once
  std::optional<agent::log::TimeZones> zones_;
  std::string zones_timezone_;
  std::uint64_t settings_connection_ = 0;
  Clock::time_point settings_read_at_{};
  bool recheck_ = false;
  std::unique_ptr<LogTail> tail_;
  std::optional<fs::path> followed_;
  std::string reported_;
  Clock::time_point quiet_until_{};
  bool commit_failing_ = false;
};

}  // namespace

CollectorPtr make_pg_log(std::shared_ptr<PgSession> session, const InstanceConfig& instance,
                         const fs::path& state_dir) {
  return std::make_unique<PgLogCollector>(std::move(session), instance, state_dir);
}

}  // namespace pga::agent::collectors
