// Validation of a push batch against the family registry. The whole batch is checked and its
// rows encoded before anything is stored, so a batch is refused whole or stored whole.
#include <boost/json/monotonic_resource.hpp>
#include <boost/json/parse.hpp>

#include <algorithm>
#include <cmath>

#include "pganalytics/common/json_exact.hpp"
#include "pganalytics/metrics/query_text.hpp"
#include "pganalytics/net/http.hpp"
#include "pganalytics/server/ingest.hpp"

namespace pga::server::ingest {

constexpr std::size_t kMaxNameInMessage = 64;

// A client-supplied name inside an error message: bounded, cut on a UTF-8 character boundary.
std::string quoted(std::string_view name) {
  if (name.size() > kMaxNameInMessage) {
    std::size_t cut = kMaxNameInMessage;
    while (cut > 0 && (static_cast<unsigned char>(name[cut]) & 0xC0) == 0x80) --cut;
    return "\"" + std::string(name.substr(0, cut)) + "...\"";
  }
  return "\"" + std::string(name) + "\"";
}

namespace {

namespace json = boost::json;
using metrics::ColumnType;
using metrics::Family;

constexpr std::size_t kMaxName = 200;  // collector id, family and instance names
constexpr std::size_t kMaxAgentField = 255;
constexpr std::size_t kNotInSample = static_cast<std::size_t>(-1);

[[noreturn]] void refuse(std::string code, std::string message) {
  throw net::ApiError(400, std::move(code), std::move(message));
}

std::string sample_path(std::size_t index) { return "samples[" + std::to_string(index) + "]"; }

const json::value* member(const json::object& object, std::string_view key) {
  auto it = object.find(key);
  return it == object.end() || it->value().is_null() ? nullptr : &it->value();
}

const json::value& required(const json::object& object, std::string_view key, const std::string& path) {
  const auto* value = member(object, key);
  if (!value) refuse("missing_field", path + "\"" + std::string(key) + "\" is required");
  return *value;
}

std::string_view string_field(const json::object& object, std::string_view key, const std::string& path,
                              std::size_t max_length) {
  const auto& value = required(object, key, path);
  if (!value.is_string() || value.get_string().empty() || value.get_string().size() > max_length)
    refuse("bad_field", path + "\"" + std::string(key) + "\" must be a string of 1 to " + std::to_string(max_length) +
                            " bytes");
  return value.get_string();
}

const json::array& array_field(const json::object& object, std::string_view key, const std::string& path) {
  const auto& value = required(object, key, path);
  if (!value.is_array()) refuse("bad_field", path + "\"" + std::string(key) + "\" must be an array");
  return value.get_array();
}

std::int64_t timestamp_field(const json::object& object, std::string_view key, const std::string& path) {
  const auto& value = required(object, key, path);
  auto parsed = value.is_string() ? parse_rfc3339(value.get_string()) : std::nullopt;
  if (!parsed) refuse("bad_field", path + "\"" + std::string(key) + "\" must be an RFC 3339 date-time");
  return *parsed;
}

json::value parse_root(std::string_view body, json::storage_ptr storage) {
  boost::system::error_code ec;
  auto value = parse_json_exact(body, ec, std::move(storage));
  if (ec) refuse("bad_json", "the batch is not valid JSON: " + ec.message());
  if (!value.is_object()) refuse("bad_json", "the batch must be a JSON object");
  return value;
}

std::int64_t seq_of(const json::object& batch) {
  const auto& value = required(batch, "seq", "");
  if (!value.is_int64() || value.get_int64() < 1) refuse("bad_field", "\"seq\" must be an integer of at least 1");
  return value.get_int64();
}

std::vector<SeqRange> dropped_ranges(const json::object& batch, std::int64_t seq, const Limits& limits) {
  const auto* value = member(batch, "dropped");
  if (!value) return {};
  if (!value->is_array()) refuse("bad_field", "\"dropped\" must be an array of [first, last] pairs");
  const auto& pairs = value->get_array();
  if (pairs.size() > limits.max_dropped_ranges)
    refuse("batch_too_large", "\"dropped\" has more than " + std::to_string(limits.max_dropped_ranges) + " ranges");
  std::vector<SeqRange> ranges;
  for (std::size_t i = 0; i < pairs.size(); ++i) {
    const auto* pair = pairs[i].if_array();
    const bool integers = pair && pair->size() == 2 && (*pair)[0].is_int64() && (*pair)[1].is_int64();
    if (!integers || (*pair)[0].get_int64() < 1 || (*pair)[0].get_int64() > (*pair)[1].get_int64() ||
        (*pair)[1].get_int64() >= seq)
      refuse("bad_field", "dropped[" + std::to_string(i) + "] must be [first, last] with 1 <= first <= last < seq");
    ranges.push_back({(*pair)[0].get_int64(), (*pair)[1].get_int64()});
  }
  std::sort(ranges.begin(), ranges.end(), [](const SeqRange& a, const SeqRange& b) { return a.first < b.first; });
  for (std::size_t i = 1; i < ranges.size(); ++i)
    if (ranges[i].first <= ranges[i - 1].last) refuse("bad_field", "the ranges of \"dropped\" overlap");
  return ranges;
}

// --- samples, first pass: family, instance, time and columns ---

struct Head {
  const Family* family;
  std::string instance;
  std::int64_t at_us;
  std::vector<std::size_t> columns;  // indices into family->columns, in the sample's order
  const json::array* rows;
};

std::string instance_of(const json::object& sample, const Family& family, const std::string& path) {
  const auto* value = member(sample, "instance");
  if (value && (!value->is_string() || value->get_string().size() > kMaxName))
    refuse("bad_field", path + "\"instance\" must be a string of at most " + std::to_string(kMaxName) + " bytes");
  std::string instance = value ? std::string(value->get_string()) : std::string();
  if (family.scope == metrics::Scope::Instance && instance.empty())
    refuse("bad_instance", "family " + quoted(family.name) + " needs an \"instance\" (" + path + ")");
  if (family.scope == metrics::Scope::Host && !instance.empty())
    refuse("bad_instance", "family " + quoted(family.name) + " is host-level and takes no \"instance\" (" + path + ")");
  return instance;
}

std::vector<std::size_t> columns_of(const json::object& sample, const Family& family, const std::string& path) {
  const auto& names = array_field(sample, "columns", path);
  if (names.empty()) refuse("bad_field", path + "\"columns\" must name at least one column");
  std::vector<std::size_t> columns;
  std::vector<bool> seen(family.columns.size());
  for (const auto& name : names) {
    if (!name.is_string()) refuse("bad_field", path + "\"columns\" must hold column names");
    const auto* column = family.find_column(name.get_string());
    if (!column)
      refuse("unknown_column", "family " + quoted(family.name) + " has no column " + quoted(name.get_string()));
    const auto index = static_cast<std::size_t>(column - family.columns.data());
    if (seen[index])
      refuse("unknown_column", "column " + quoted(column->name) + " of family " + quoted(family.name) +
                                   " is named twice (" + path + ")");
    seen[index] = true;
    columns.push_back(index);
  }
  for (std::size_t i = 0; i < family.columns.size(); ++i)
    if (family.columns[i].kind == metrics::ColumnKind::Key && !seen[i])
      refuse("unknown_column", "family " + quoted(family.name) + " needs its key column " +
                                   quoted(family.columns[i].name) + " (" + path + ")");
  return columns;
}

Head head_of(const json::value& value, std::size_t index, const Limits& limits) {
  const auto path = sample_path(index) + ": ";
  if (!value.is_object()) refuse("bad_field", path + "a sample must be an object");
  const auto& sample = value.get_object();
  const auto name = string_field(sample, "family", path, kMaxName);
  const auto* family = metrics::find_family(name);
  if (!family) refuse("unknown_family", "unknown family " + quoted(name) + " (" + sample_path(index) + ")");
  Head head{family, instance_of(sample, *family, path), timestamp_field(sample, "at", path), {}, nullptr};
  if (head.at_us > limits.latest_us)
    refuse("sample_out_of_range", path + "\"at\" lies too far in the future; check the agent's clock");
  head.columns = columns_of(sample, *family, path);
  head.rows = &array_field(sample, "rows", path);
  return head;
}

// --- samples, second pass: cells, encoded in the family's union column order ---

// Appends `cell` as a binary COPY field for a column of `type`; false when it is not of that type.
bool append_cell(std::string& out, const json::value& cell, ColumnType type) {
  if (cell.is_null()) {
    append_null_field(out);
    return true;
  }
  switch (type) {
    case ColumnType::Int64:
      if (!cell.is_int64()) return false;
      append_int64_field(out, cell.get_int64());
      return true;
    case ColumnType::Float64:
      // An integer becomes the nearest double, as PostgreSQL rounds one read as text. A literal
      // past the double range (1e999) parses as infinity: no statistic is infinite.
      if (cell.is_int64()) append_float64_field(out, static_cast<double>(cell.get_int64()));
      else if (cell.is_uint64()) append_float64_field(out, static_cast<double>(cell.get_uint64()));
      else if (cell.is_double() && std::isfinite(cell.get_double())) append_float64_field(out, cell.get_double());
      else return false;
      return true;
    case ColumnType::Bool:
      if (!cell.is_bool()) return false;
      append_bool_field(out, cell.get_bool());
      return true;
    case ColumnType::Text:
      // PostgreSQL text cannot hold NUL; refusing it here keeps COPY from failing mid-batch.
      if (!cell.is_string() || cell.get_string().find('\0') != json::string::npos) return false;
      append_text_field(out, cell.get_string());
      return true;
    case ColumnType::Timestamp: {
      auto parsed = cell.is_string() ? parse_rfc3339(cell.get_string()) : std::nullopt;
      if (!parsed) return false;
      append_timestamp_field(out, *parsed);
      return true;
    }
  }
  return false;
}

std::string_view expected(ColumnType type) {
  switch (type) {
    case ColumnType::Int64: return "an integer within int64";
    case ColumnType::Float64: return "a finite number";
    case ColumnType::Bool: return "a boolean";
    case ColumnType::Text: return "a string without NUL";
    case ColumnType::Timestamp: return "an RFC 3339 date-time";
  }
  return "";
}

// Where each column of the family's union sits in the sample's rows, kNotInSample if absent.
std::vector<std::size_t> positions(const Head& head, const FamilyColumns& family) {
  std::vector<std::size_t> out(family.columns.size(), kNotInSample);
  for (std::size_t u = 0; u < family.columns.size(); ++u) {
    auto it = std::find(head.columns.begin(), head.columns.end(), family.columns[u]);
    if (it != head.columns.end()) out[u] = static_cast<std::size_t>(it - head.columns.begin());
  }
  return out;
}

void append_row(std::string& out, const json::array& row, const std::vector<std::size_t>& where,
                const FamilyColumns& family, const std::string& at) {
  for (std::size_t u = 0; u < where.size(); ++u) {
    if (where[u] == kNotInSample) {
      append_null_field(out);
      continue;
    }
    const auto& column = family.family->columns[family.columns[u]];
    const auto& cell = row[where[u]];
    const bool null_key = cell.is_null() && column.kind == metrics::ColumnKind::Key;
    if (null_key || !append_cell(out, cell, column.type))
      refuse("bad_value", "family " + quoted(family.family->name) + ", " + at + ", column " + quoted(column.name) +
                              ": expected " + std::string(null_key ? "a value for a key column" : expected(column.type)) +
                              ", got " + std::string(json::to_string(cell.kind())));
  }
}

// datname is this family's key column: every sample names it and no row holds it null.
std::vector<std::string> datnames_of(const Head& head) {
  std::size_t position = 0;
  while (head.family->columns[head.columns[position]].name != "datname") ++position;
  std::vector<std::string> names;
  for (const auto& row : *head.rows) names.emplace_back(row.get_array()[position].get_string());
  return names;
}

Sample encode(const Head& head, std::size_t slot, const FamilyColumns& family, std::size_t index) {
  Sample sample{slot, head.instance, head.at_us, {}, {}, {}};
  sample.row_ends.reserve(head.rows->size());
  const auto where = positions(head, family);
  for (std::size_t r = 0; r < head.rows->size(); ++r) {
    const auto at = sample_path(index) + " row " + std::to_string(r);
    const auto* row = (*head.rows)[r].if_array();
    if (!row || row->size() != head.columns.size())
      refuse("bad_row_width", "family " + quoted(head.family->name) + ", " + at + ": a row must be an array of " +
                                  std::to_string(head.columns.size()) + " values, one per column");
    append_row(sample.fields, *row, where, family, at);
    sample.row_ends.push_back(sample.fields.size());
  }
  if (head.family->name == kDatabaseFamilyName) sample.datnames = datnames_of(head);
  return sample;
}

std::size_t slot_of(std::vector<FamilyColumns>& families, const Family* family) {
  auto it = std::find_if(families.begin(), families.end(), [&](const FamilyColumns& f) { return f.family == family; });
  if (it != families.end()) return static_cast<std::size_t>(it - families.begin());
  families.push_back({family, {}});
  return families.size() - 1;
}

// The union of the columns each family's samples name, in registry order.
std::vector<std::size_t> slots_with_columns(const std::vector<Head>& heads, std::vector<FamilyColumns>& families) {
  std::vector<std::size_t> slots;
  std::vector<std::vector<bool>> used;
  for (const auto& head : heads) {
    const auto slot = slot_of(families, head.family);
    slots.push_back(slot);
    if (used.size() <= slot) used.emplace_back(head.family->columns.size());
    for (auto column : head.columns) used[slot][column] = true;
  }
  for (std::size_t slot = 0; slot < families.size(); ++slot)
    for (std::size_t column = 0; column < used[slot].size(); ++column)
      if (used[slot][column]) families[slot].columns.push_back(column);
  return slots;
}

std::int64_t earliest_for(const Family& family, const Limits& limits) {
  return family.retention == metrics::Retention::DiskUsage ? limits.earliest_disk_usage_us : limits.earliest_raw_us;
}

void parse_samples(const json::array& samples, const Limits& limits, Batch& batch) {
  if (samples.size() > limits.max_samples)
    refuse("batch_too_large", "a batch holds at most " + std::to_string(limits.max_samples) + " samples");
  std::vector<Head> heads;
  std::size_t cells = 0;
  for (std::size_t i = 0; i < samples.size(); ++i) {
    heads.push_back(head_of(samples[i], i, limits));
    cells += heads.back().rows->size() * heads.back().columns.size();
    if (cells > limits.max_cells)
      refuse("batch_too_large", "a batch holds at most " + std::to_string(limits.max_cells) + " values");
  }
  check_batch_limits(samples, limits);
  const auto slots = slots_with_columns(heads, batch.families);
  for (std::size_t i = 0; i < heads.size(); ++i) {
    auto sample = encode(heads[i], slots[i], batch.families[slots[i]], i);
    if (sample.at_us < earliest_for(*heads[i].family, limits)) ++batch.expired_samples;
    else batch.samples.push_back(std::move(sample));
  }
}

// --- query texts ---

std::optional<std::int64_t> optional_integer(const json::object& object, std::string_view key,
                                             const std::string& path) {
  const auto* value = member(object, key);
  if (!value) return std::nullopt;
  if (!value->is_int64()) refuse("bad_field", path + "\"" + std::string(key) + "\" must be an integer within int64");
  return value->get_int64();
}

QueryText query_text_of(const json::value& value, std::size_t index) {
  const auto path = "query_texts[" + std::to_string(index) + "]: ";
  if (!value.is_object()) refuse("bad_field", path + "a query text must be an object");
  const auto& item = value.get_object();
  const auto instance = string_field(item, "instance", path, kMaxName);
  const auto queryid = optional_integer(item, "queryid", path);
  if (!queryid) refuse("missing_field", path + "\"queryid\" is required");
  // Not stored (texts are kept per instance and query id), but when sent they must be sound.
  optional_integer(item, "dbid", path);
  optional_integer(item, "userid", path);
  const auto query = string_field(item, "query", path, metrics::kMaxQueryTextBytes);
  // PostgreSQL text cannot hold NUL; refusing it here keeps the INSERT from failing mid-batch.
  if (query.find('\0') != std::string_view::npos) refuse("bad_field", path + "\"query\" must not contain NUL");
  return {std::string(instance), *queryid, std::string(query)};
}

std::vector<QueryText> query_texts_of(const json::object& batch, const Limits& limits) {
  const auto* value = member(batch, "query_texts");
  if (!value) return {};
  if (!value->is_array()) refuse("bad_field", "\"query_texts\" must be an array of objects");
  const auto& items = value->get_array();
  if (items.size() > limits.max_query_texts)
    refuse("batch_too_large", "\"query_texts\" has more than " + std::to_string(limits.max_query_texts) + " texts");
  std::vector<QueryText> texts;
  texts.reserve(items.size());
  for (std::size_t i = 0; i < items.size(); ++i) texts.push_back(query_text_of(items[i], i));
  return texts;
}

}  // namespace

Batch parse_batch(std::string_view body, std::string_view authenticated_collector, const Limits& limits) {
  json::monotonic_resource memory;
  const auto root = parse_root(body, &memory);
  const auto& object = root.get_object();
  Batch batch{};
  batch.collector_id = string_field(object, "collector_id", "", kMaxName);
  if (batch.collector_id != authenticated_collector)
    throw net::ApiError(403, "identity_mismatch", "the batch names another collector than the credentials");
  batch.seq = seq_of(object);
  batch.sent_at_us = timestamp_field(object, "sent_at", "");
  const auto& agent = required(object, "agent", "");
  if (!agent.is_object()) refuse("bad_field", "\"agent\" must be an object with \"version\" and \"hostname\"");
  batch.agent_version = string_field(agent.get_object(), "version", "agent: ", kMaxAgentField);
  batch.agent_hostname = string_field(agent.get_object(), "hostname", "agent: ", kMaxAgentField);
  batch.dropped = dropped_ranges(object, batch.seq, limits);
  parse_samples(array_field(object, "samples", ""), limits, batch);
  batch.query_texts = query_texts_of(object, limits);
  return batch;
}

}  // namespace pga::server::ingest
