// Ingestion of push batches (CONTRACT §5): a batch is parsed and validated whole against the
// family registry, its rows encoded for COPY, and only then stored, in one transaction, or refused.
#pragma once
#include <boost/asio/awaitable.hpp>

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "pganalytics/db/async_pg.hpp"
#include "pganalytics/metrics/registry.hpp"

namespace boost::json {
class array;
}

namespace pga::server::ingest {

// The family whose rows list an instance's databases for the inventory.
inline constexpr std::string_view kDatabaseFamilyName = "pg_stats_database";

// --- timestamps: microseconds since the Unix epoch, UTC ---

// RFC 3339 date-time ("2026-11-24T12:00:00.123Z", "...+02:00"); digits past microseconds are
// truncated. nullopt for anything else, for impossible dates, and outside years 0001-9999.
std::optional<std::int64_t> parse_rfc3339(std::string_view text);
// "2026-11-24 12:00:00.123000+00": what PostgreSQL reads back exactly, whatever its TimeZone.
std::string format_timestamp(std::int64_t unix_us);
// The UTC day holding `unix_us`, as "2026-11-24".
std::string format_day(std::int64_t unix_us);

// --- COPY binary format (PostgreSQL docs, "COPY — Binary Format") ---

// One field each: its int32 byte length (-1 for NULL), then its bytes in the column type's
// binary form, every integer in network byte order.
void append_null_field(std::string& out);
void append_int64_field(std::string& out, std::int64_t value);        // bigint
void append_float64_field(std::string& out, double value);            // double precision
void append_bool_field(std::string& out, bool value);                 // boolean
void append_text_field(std::string& out, std::string_view text);      // text: UTF-8 without NUL
void append_timestamp_field(std::string& out, std::int64_t unix_us);  // timestamp with time zone

// --- COPY text format, kept for bench/ingest's reference COPY ---

// Appends `text` with backslash, tab, newline and carriage return escaped.
void append_copy_escaped(std::string& out, std::string_view text);
inline constexpr std::string_view kCopyNull = "\\N";

// --- the validated batch ---

struct Limits {
  std::size_t max_samples = 10'000;
  std::size_t max_cells = 1'000'000;
  std::size_t max_dropped_ranges = 1'000;
  std::size_t max_query_texts = 10'000;
  // Per collector (server.toml [limits]; the defaults are the configuration's).
  std::size_t max_objects_per_sample = 100'000;
  std::size_t max_instances = 256;
  std::size_t max_databases = 20'000;
  std::size_t max_text_bytes = 1024 * 1024;
  // Samples older than their family's retention are skipped (retention would drop them at once);
  // samples later than `latest_us` come from a wrong clock and refuse the batch. Together they
  // bound the days, hence the partitions, one batch can touch.
  std::int64_t earliest_raw_us = std::numeric_limits<std::int64_t>::min();
  std::int64_t earliest_disk_usage_us = std::numeric_limits<std::int64_t>::min();
  std::int64_t latest_us = std::numeric_limits<std::int64_t>::max();
};

// The columns a batch carries for one family: the union over its samples, in registry order,
// as indices into family->columns. One COPY per family uses exactly these.
struct FamilyColumns {
  const metrics::Family* family;
  std::vector<std::size_t> columns;
};

struct Sample {
  std::size_t family_slot;  // index into Batch::families
  std::string instance;     // empty for host families
  std::int64_t at_us;
  // The binary COPY fields of the rows, in the family's union column order, without the leading
  // time and owner id (known only once the instance is resolved); row i ends at row_ends[i].
  std::string fields;
  std::vector<std::size_t> row_ends;
  std::vector<std::string> datnames;  // pg_stats_database only: the databases it names
  std::size_t row_count() const { return row_ends.size(); }
};

struct SeqRange {
  std::int64_t first;
  std::int64_t last;
};

// A pg_stat_statements text of "query_texts"; its instance is checked against the collector's
// instances when stored, since a text may follow the rows of its statement in a later batch.
struct QueryText {
  std::string instance;
  std::int64_t queryid;
  std::string query;
};

struct Batch {
  std::string collector_id;
  std::int64_t seq = 0;
  std::int64_t sent_at_us = 0;
  std::string agent_version;
  std::string agent_hostname;
  std::vector<FamilyColumns> families;
  std::vector<Sample> samples;
  std::vector<SeqRange> dropped;
  std::vector<QueryText> query_texts;
  std::size_t expired_samples = 0;  // skipped as older than retention
  std::size_t row_count() const;
};

// A client-supplied name for an error message: quoted, bounded, cut on a character boundary.
std::string quoted(std::string_view name);

// The per-collector limits over a batch's samples, already known to be well formed (family,
// columns and rows checked): 400 limit_exceeded naming the limit (ingest_limits.cpp).
void check_batch_limits(const boost::json::array& samples, const Limits& limits);

// Parses and validates a whole batch; throws net::ApiError (400 with a code naming the family,
// column and row at fault; 403 identity_mismatch when the batch names another collector).
Batch parse_batch(std::string_view body, std::string_view authenticated_collector, const Limits& limits);

// Appends the binary COPY tuples (time, owner id, then the row's fields) of every sample of
// `family_slot`, owners given per sample; the first tuple appended to an empty `out` is preceded
// by the COPY header. Empty `out` stays empty when the slot holds no rows.
void append_copy_data(std::string& out, const Batch& batch, std::size_t family_slot,
                      const std::vector<std::int64_t>& owner_of_sample);
// Ends COPY data begun by append_copy_data.
void end_copy_data(std::string& out);

// --- storage ---

struct StoreOutcome {
  bool duplicate;
  std::int64_t config_version;
};

// What a collector's stored inventory may grow to (server.toml [limits]).
struct InventoryLimits {
  std::size_t max_instances = std::numeric_limits<std::size_t>::max();
  std::size_t max_databases = std::numeric_limits<std::size_t>::max();
};

// Stores `batches` in one transaction (see ingest_writer.cpp), all or nothing; a batch seen
// before, or twice in the group, stores nothing. One outcome per batch, in order. Throws
// net::ApiError when a batch is refused (also when it would grow its collector's inventory past
// `inventory`), db::DbUnavailable when the database cannot be used, db::DbError on other failures.
boost::asio::awaitable<std::vector<StoreOutcome>> store_group(db::AsyncConnection& conn,
                                                               std::span<const Batch* const> batches,
                                                               const InventoryLimits& inventory = {});

// --- self-metrics and backpressure ---

struct Counters {
  std::atomic<std::uint64_t> batches_stored{0};
  std::atomic<std::uint64_t> batches_duplicate{0};
  std::atomic<std::uint64_t> batches_rejected{0};    // refused as malformed (4xx)
  std::atomic<std::uint64_t> batches_overloaded{0};  // refused with 503 while at capacity
  std::atomic<std::uint64_t> batches_grouped{0};     // stored in one transaction with others
  std::atomic<std::uint64_t> samples_expired{0};
  std::vector<std::atomic<std::uint64_t>> rows_by_family =
      std::vector<std::atomic<std::uint64_t>>(metrics::families().size());  // indexed like families()
  std::atomic<std::size_t> in_flight{0};

  std::uint64_t rows_of(std::string_view family) const;
  void record_stored(const Batch& batch);
};

// The process's counters: one server per process.
Counters& counters();

// A place among the batches being parsed, queued or stored at once. Taking one beyond `capacity`
// throws ApiError 503 "overloaded" with Retry-After, so load becomes backpressure, not a queue.
class Slot {
 public:
  Slot(Counters& counters, std::size_t capacity);
  ~Slot();
  Slot(const Slot&) = delete;
  Slot& operator=(const Slot&) = delete;

 private:
  Counters& counters_;
};

}  // namespace pga::server::ingest
