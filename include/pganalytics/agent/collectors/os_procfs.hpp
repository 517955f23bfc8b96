// What the OS collectors share: where /proc and /sys live, the error a collector returns instead
// of throwing, and the few parsing primitives every procfs reader needs.
#pragma once
#include <array>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <variant>
#include <vector>

#include "pganalytics/common/time_format.hpp"
#include "pganalytics/metrics/sample.hpp"

namespace pga::agent::collectors {

// Tests point these at fixture snapshots; an agent in a container points them at the host's.
struct HostPaths {
  std::filesystem::path proc_root = "/proc";
  std::filesystem::path sys_root = "/sys";

  // root/proc and root/sys: a host filesystem mounted at root, or a fixture snapshot.
  static HostPaths under(const std::filesystem::path& root) { return {root / "proc", root / "sys"}; }
};

// A source that could not be read or did not look as expected. It names the file so that one
// log line tells an operator what to look at; the collector that hit it yields no sample.
struct OsError {
  std::string file;
  std::string reason;

  std::string message() const { return file + ": " + reason; }
};

// std::expected is C++23; this is the part of it the collectors need.
template <class T>
class OsResult {
 public:
  OsResult(T value) : state_(std::move(value)) {}
  OsResult(OsError error) : state_(std::move(error)) {}

  bool has_value() const { return state_.index() == 0; }
  explicit operator bool() const { return has_value(); }

  T& value() & { return std::get<0>(state_); }
  const T& value() const& { return std::get<0>(state_); }
  T&& value() && { return std::get<0>(std::move(state_)); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

  const OsError& error() const { return std::get<1>(state_); }

 private:
  std::variant<T, OsError> state_;
};

// The whole file. Procfs files report size 0, so this reads until EOF rather than by size.
OsResult<std::string> read_text(const std::filesystem::path& path);

// The lines of a text, without their '\n'; blank lines kept so that indexes give line numbers.
std::vector<std::string_view> split_lines(std::string_view text);

// Whitespace-separated fields of one line, as views into it.
std::vector<std::string_view> split_fields(std::string_view line);

// Plain unsigned decimal (procfs counters), or nullopt; values past INT64_MAX are rejected
// rather than wrapped so a corrupt counter never turns into a negative one.
std::optional<std::int64_t> parse_int(std::string_view text);
std::optional<double> parse_double(std::string_view text);

// value × factor, or nullopt on overflow (sectors → bytes, kB → bytes).
std::optional<std::int64_t> scale(std::int64_t value, std::int64_t factor);


// A host sample (no instance) stamped now, with these columns and no rows yet.
metrics::Sample host_sample(std::string family, std::span<const std::string_view> columns);

// Where a column's counter sits among a table line's numbers, and the factor to its unit.
struct CounterField {
  std::string_view column;
  std::size_t index;
  std::int64_t factor = 1;
};

// The columns of a per-object table family: its key column, then one per counter.
template <std::size_t N>
constexpr std::array<std::string_view, N + 1> key_and_columns(std::string_view key,
                                                             const std::array<CounterField, N>& counters) {
  std::array<std::string_view, N + 1> names{key};
  for (std::size_t i = 0; i < N; ++i) names[i + 1] = counters[i].column;
  return names;
}

// One row of a table file (diskstats, net/dev): the key, then each counter picked out of
// numbers, NULL where the line is too short to hold it. `where` prefixes error reasons.
OsResult<metrics::Row> counter_row(std::string key, std::span<const std::string_view> numbers,
                                   std::span<const CounterField> counters, const std::string& file,
                                   std::string_view where);

// A "key value..." file (/proc/stat, /proc/meminfo, /proc/vmstat): the first field of each
// line is its key, with meminfo's trailing ':' dropped; the rest of the line is its value.
class KeyValueFile {
 public:
  static OsResult<KeyValueFile> read(const std::filesystem::path& path);

  const std::unordered_map<std::string_view, std::string_view>& entries() const { return entries_; }
  bool contains(std::string_view key) const { return entries_.contains(key); }
  // The key's first number times factor: NULL when the key is absent (an older kernel), an
  // error when it is present but not a number.
  OsResult<metrics::Cell> int_cell(std::string_view key, std::int64_t factor = 1) const;
  OsError error(std::string reason) const { return {path_, std::move(reason)}; }

 private:
  std::string path_;
  // Heap-held so the views in entries_ survive moves of the KeyValueFile.
  std::unique_ptr<const std::string> text_;
  std::unordered_map<std::string_view, std::string_view> entries_;
};

}  // namespace pga::agent::collectors
