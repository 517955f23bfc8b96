// Aggregation of anonymous and refused events for the audit log. Past kMaxKeys distinct keys
// (a flood from many addresses), new keys share one window per action whose actor and address
// read "(many)", so memory stays bounded and every event is still counted.
#include "pganalytics/server/audit_throttle.hpp"

#include <fmt/format.h>

namespace pga::server {
namespace {

std::string key_of(const repo::AuditEntry& e) {
  return fmt::format("{}\n{}\n{}\n{}", e.action, e.actor, e.remote_addr, e.success ? 1 : 0);
}

}  // namespace

bool AuditThrottle::admit(const repo::AuditEntry& entry, Clock::time_point now) {
  std::lock_guard lock(mutex_);
  auto key = key_of(entry);
  auto it = windows_.find(key);
  if (it == windows_.end() && windows_.size() >= kMaxKeys) {
    repo::AuditEntry many = entry;
    many.actor = "(many)";
    many.remote_addr = "(many)";
    key = key_of(many);
    it = windows_.find(key);
    if (it == windows_.end()) it = windows_.emplace(key, Window{now, 0, 0, many}).first;
  } else if (it == windows_.end()) {
    it = windows_.emplace(key, Window{now, 0, 0, entry}).first;
  }
  auto& window = it->second;
  if (window.written < kWrittenPerWindow && window.sample.actor != "(many)") {
    ++window.written;
    return true;
  }
  ++window.counted;
  return false;
}

std::vector<repo::AuditEntry> AuditThrottle::take_summaries(bool all, Clock::time_point now) {
  std::vector<repo::AuditEntry> summaries;
  std::lock_guard lock(mutex_);
  for (auto it = windows_.begin(); it != windows_.end();) {
    const auto& window = it->second;
    if (!all && now - window.start < window_) {
      ++it;
      continue;
    }
    if (window.counted > 0) {
      auto summary = window.sample;
      summary.target = "";
      summary.count = window.counted;
      const auto age = std::chrono::duration_cast<std::chrono::seconds>(now - window.start).count();
      summary.detail_json = fmt::format(R"({{"aggregated":true,"over_seconds":{},"written_individually":{}}})", age,
                                        window.written);
      summaries.push_back(std::move(summary));
    }
    it = windows_.erase(it);
  }
  return summaries;
}

}  // namespace pga::server
