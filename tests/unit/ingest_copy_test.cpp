// Binary COPY encoding: each field decodes, as PostgreSQL reads it, to exactly the value encoded,
// and a family's COPY data is a header, one tuple per row led by its sample's time and owner, and
// a trailer. Also the COPY text escaping that bench/ingest's reference uses.
#include <doctest/doctest.h>

#include <bit>
#include <cfloat>
#include <optional>

#include "pganalytics/server/ingest.hpp"

using namespace pga::server::ingest;
using namespace std::string_view_literals;

namespace {

// Microseconds from the Unix epoch to 2000-01-01 00:00:00 UTC, PostgreSQL's epoch.
constexpr std::int64_t kY2kUs = 946'684'800'000'000;

// A reading of binary COPY data as PostgreSQL's CopyFrom does it: network byte order throughout.
class Reader {
 public:
  explicit Reader(std::string_view data) : data_(data) {}

  std::uint64_t integer(std::size_t bytes) {
    REQUIRE(pos_ + bytes <= data_.size());
    std::uint64_t value = 0;
    for (std::size_t i = 0; i < bytes; ++i) value = value << 8 | static_cast<unsigned char>(data_[pos_++]);
    return value;
  }
  std::string_view bytes(std::size_t count) {
    REQUIRE(pos_ + count <= data_.size());
    pos_ += count;
    return data_.substr(pos_ - count, count);
  }
  // One field: nullopt for NULL, else its bytes.
  std::optional<std::string> field() {
    const auto length = static_cast<std::int32_t>(integer(4));
    if (length == -1) return std::nullopt;
    REQUIRE(length >= 0);
    return std::string(bytes(static_cast<std::size_t>(length)));
  }
  bool done() const { return pos_ == data_.size(); }

 private:
  std::string_view data_;
  std::size_t pos_ = 0;
};

using Tuple = std::vector<std::optional<std::string>>;

// The tuples of a whole COPY data stream, after checking its header and trailer.
std::vector<Tuple> decode_copy(std::string_view data) {
  Reader reader(data);
  CHECK(reader.bytes(11) == "PGCOPY\n\377\r\n\0"sv);
  CHECK(reader.integer(4) == 0);  // flags: no OIDs
  CHECK(reader.integer(4) == 0);  // header extension length
  std::vector<Tuple> tuples;
  for (auto count = static_cast<std::int16_t>(reader.integer(2)); count != -1;
       count = static_cast<std::int16_t>(reader.integer(2))) {
    REQUIRE(count > 0);
    Tuple tuple;
    for (int i = 0; i < count; ++i) tuple.push_back(reader.field());
    tuples.push_back(std::move(tuple));
  }
  CHECK(reader.done());
  return tuples;
}

// The value of one field's bytes, as int8recv, float8recv and timestamptz_recv read them.
std::int64_t int64_of(std::string_view bytes) {
  REQUIRE(bytes.size() == 8);
  return static_cast<std::int64_t>(Reader(bytes).integer(8));
}
double float64_of(std::string_view bytes) { return std::bit_cast<double>(static_cast<std::uint64_t>(int64_of(bytes))); }
std::int64_t unix_us_of(std::string_view bytes) { return int64_of(bytes) + kY2kUs; }

// The single field `append` writes, decoded.
template <typename Append>
std::optional<std::string> field_of(Append append) {
  std::string out;
  append(out);
  Reader reader(out);
  auto field = reader.field();
  CHECK(reader.done());
  return field;
}

std::string int64_field(std::int64_t value) {
  std::string out;
  append_int64_field(out, value);
  return out;
}

std::string escaped(std::string_view text) {
  std::string out;
  append_copy_escaped(out, text);
  return out;
}

}  // namespace

TEST_CASE("fields are laid out as PostgreSQL's binary format wants, in network byte order") {
  std::string null;
  append_null_field(null);
  CHECK(null == "\xff\xff\xff\xff"sv);
  CHECK(int64_field(1) == "\0\0\0\x08\0\0\0\0\0\0\0\x01"sv);
  CHECK(int64_field(-2) == "\0\0\0\x08\xff\xff\xff\xff\xff\xff\xff\xfe"sv);
  std::string one;
  append_float64_field(one, 1.0);
  CHECK(one == "\0\0\0\x08\x3f\xf0\0\0\0\0\0\0"sv);
  std::string booleans;
  append_bool_field(booleans, true);
  append_bool_field(booleans, false);
  CHECK(booleans == "\0\0\0\x01\x01\0\0\0\x01\0"sv);
  std::string text;
  append_text_field(text, "ab");
  CHECK(text == "\0\0\0\x02" "ab"sv);
  std::string y2k;
  append_timestamp_field(y2k, kY2kUs);
  CHECK(y2k == "\0\0\0\x08\0\0\0\0\0\0\0\0"sv);
}

TEST_CASE("integers, doubles and booleans decode to exactly the value encoded") {
  for (std::int64_t value : {INT64_MIN, INT64_MIN + 1, std::int64_t{-1}, std::int64_t{0}, std::int64_t{1},
                             std::int64_t{8589934592}, INT64_MAX}) {
    const auto field = field_of([&](std::string& out) { append_int64_field(out, value); });
    REQUIRE(field);
    CHECK(int64_of(*field) == value);
  }
  // Bit for bit: the sign of -0.0, denormals and the extremes survive.
  for (double value : {0.0, -0.0, 1.5, -2.25, 0.1, 98122.989010989011, 1e300, -1e300, DBL_MAX, -DBL_MAX, DBL_MIN,
                       DBL_TRUE_MIN, -DBL_TRUE_MIN, 2.2250738585072009e-308, 18446744073709551615.0}) {
    const auto field = field_of([&](std::string& out) { append_float64_field(out, value); });
    REQUIRE(field);
    CHECK_MESSAGE(std::bit_cast<std::uint64_t>(float64_of(*field)) == std::bit_cast<std::uint64_t>(value), value);
  }
  CHECK(field_of([](std::string& out) { append_bool_field(out, true); }) == std::optional<std::string>("\1"));
  CHECK(field_of([](std::string& out) { append_bool_field(out, false); }) == std::optional<std::string>("\0"sv));
  CHECK(field_of([](std::string& out) { append_null_field(out); }) == std::nullopt);
}

TEST_CASE("text travels as its raw bytes, whatever characters it holds") {
  for (std::string_view text : {""sv, "app"sv, "\\N"sv, "\\"sv, "tab\there"sv, "multi\nline\r\n"sv, "\\t literally"sv,
                                "é ü 漢字 🐘"sv, "ends with backslash\\"sv, "\\."sv, "a\x01\x7f"sv, "\xff\xff"sv}) {
    const auto field = field_of([&](std::string& out) { append_text_field(out, text); });
    CHECK_MESSAGE(field == std::optional<std::string>(std::string(text)), text);
  }
}

TEST_CASE("timestamps count microseconds from 2000-01-01 UTC, before and after it") {
  struct Case {
    const char* at;
    std::int64_t since_y2k_us;
  };
  const Case cases[] = {{"2000-01-01T00:00:00Z", 0},
                        {"1999-12-31T23:59:59.999999Z", -1},
                        {"2000-01-01T00:00:00.000001Z", 1},
                        {"1970-01-01T00:00:00Z", -kY2kUs},
                        {"1969-12-31T23:59:59.999999Z", -kY2kUs - 1},
                        {"2026-11-24T13:00:00+01:00", 848'836'800'000'000},
                        {"0001-01-01T00:00:00Z", -63'082'281'600'000'000},
                        {"9999-12-31T23:59:59.999999Z", 252'455'615'999'999'999}};
  for (const auto& c : cases) {
    const auto unix_us = parse_rfc3339(c.at);
    REQUIRE(unix_us);
    const auto field = field_of([&](std::string& out) { append_timestamp_field(out, *unix_us); });
    REQUIRE(field);
    CHECK_MESSAGE(int64_of(*field) == c.since_y2k_us, c.at);
  }
}

TEST_CASE("a family's COPY data: header, one tuple per row led by its sample's time and owner, trailer") {
  const auto* sysstat = pga::metrics::find_family("sysstat");
  Batch batch;
  batch.families.push_back({sysstat, {0, 1}});
  batch.families.push_back({pga::metrics::find_family("pg_stats_database"), {0}});
  batch.families.push_back({sysstat, {0}});  // a slot without rows
  const auto t0 = *parse_rfc3339("2026-11-24T12:00:00Z");
  std::string two_rows;
  append_float64_field(two_rows, 1.5);
  append_null_field(two_rows);
  const auto first_end = two_rows.size();
  append_float64_field(two_rows, -0.0);
  append_int64_field(two_rows, -7);
  std::string app;
  append_text_field(app, "a\tb\\c\n");
  std::string nulls;
  append_null_field(nulls);
  append_null_field(nulls);
  batch.samples.push_back({0, "", t0, two_rows, {first_end, two_rows.size()}, {}});
  batch.samples.push_back({1, "main", t0, app, {app.size()}, {"a\tb\\c\n"}});
  batch.samples.push_back({0, "", t0 + 1'000'000, nulls, {nulls.size()}, {}});
  batch.samples.push_back({2, "", t0, {}, {}, {}});
  const std::vector<std::int64_t> owners{7, 42, 7, 7};

  std::string first;
  append_copy_data(first, batch, 0, owners);
  end_copy_data(first);
  const auto tuples = decode_copy(first);
  REQUIRE(tuples.size() == 3);
  for (const auto& tuple : tuples) {
    REQUIRE(tuple.size() == 4);
    REQUIRE(tuple[0]);
    REQUIRE(tuple[1]);
    CHECK(int64_of(*tuple[1]) == 7);
  }
  CHECK(unix_us_of(*tuples[0][0]) == t0);
  CHECK(unix_us_of(*tuples[1][0]) == t0);
  CHECK(unix_us_of(*tuples[2][0]) == t0 + 1'000'000);
  CHECK(float64_of(tuples[0][2].value()) == 1.5);
  CHECK(tuples[0][3] == std::nullopt);
  CHECK(std::bit_cast<std::uint64_t>(float64_of(tuples[1][2].value())) == std::bit_cast<std::uint64_t>(-0.0));
  CHECK(int64_of(tuples[1][3].value()) == -7);
  CHECK(tuples[2][2] == std::nullopt);
  CHECK(tuples[2][3] == std::nullopt);

  // Appending to data already begun adds tuples only: one header for a COPY of several batches.
  std::string second;
  append_copy_data(second, batch, 1, owners);
  const auto header_and_tuple = second.size();
  append_copy_data(second, batch, 1, owners);
  CHECK(second.size() - header_and_tuple == header_and_tuple - 19);
  end_copy_data(second);
  const auto databases = decode_copy(second);
  REQUIRE(databases.size() == 2);
  REQUIRE(databases[0].size() == 3);
  CHECK(int64_of(databases[0][1].value()) == 42);
  CHECK(databases[0][2] == std::optional<std::string>("a\tb\\c\n"));

  std::string none;
  append_copy_data(none, batch, 2, owners);
  CHECK(none.empty());
  CHECK(batch.row_count() == 4);
}

TEST_CASE("COPY text escaping covers backslash, tab, newline and carriage return") {
  CHECK(escaped("plain") == "plain");
  CHECK(escaped("a\\b") == "a\\\\b");
  CHECK(escaped("a\tb\nc\rd") == "a\\tb\\nc\\rd");
  CHECK(escaped("\\N") == "\\\\N");
  CHECK(escaped("\\.") == "\\\\.");
  CHECK(kCopyNull == "\\N");
}
