// Request bodies: NUL refused anywhere in a body with the field named, lengths, booleans and
// id lists; and the database layer refusing a NUL that reached it anyway.
#include <doctest/doctest.h>

#include "pganalytics/db/pg_connection.hpp"
#include "pganalytics/server/json_body.hpp"

using namespace pga;
using namespace pga::server;

namespace {
std::string refusal(std::string_view body, void (*read)(const boost::json::object&) = nullptr) {
  try {
    auto object = parse_json_object(body);
    if (read) read(object);
  } catch (const net::ApiError& e) {
    return std::to_string(e.status()) + " " + e.code() + ": " + e.what();
  }
  return "accepted";
}
}  // namespace

TEST_CASE("a NUL anywhere in a body is refused, naming where") {
  CHECK(refusal(R"({"username":"admin\u0000x","password":"p"})") ==
        "400 bad_field: \"username\" contains a NUL character");
  CHECK(refusal(R"({"collectors":{"pg_log":{"interval":"1s\u0000"}}})") ==
        "400 bad_field: \"collectors.pg_log.interval\" contains a NUL character");
  CHECK(refusal(R"({"names":["a","b\u0000"]})") == "400 bad_field: \"names[1]\" contains a NUL character");
  CHECK(refusal(R"({"a\u0000b":1})") == R"(400 bad_field: "a\u0000b" is a member name with a NUL character)");
  CHECK(refusal(R"({"username":"admin","password":"p"})") == "accepted");
  CHECK(refusal("[1]").starts_with("400 bad_json"));
}

TEST_CASE("fields: strings, booleans and id lists are checked and named") {
  auto read_ids = [](const boost::json::object& o) { required_ids(o, "server_ids"); };
  CHECK(refusal(R"({"server_ids":[1,2]})", read_ids) == "accepted");
  CHECK(refusal(R"({"server_ids":[1,-2]})", read_ids) == "400 bad_field: \"server_ids[1]\" must be a positive id");
  CHECK(refusal(R"({"server_ids":[1,"2"]})", read_ids) == "400 bad_field: \"server_ids[1]\" must be an integer id");
  CHECK(refusal(R"({"server_ids":[3,3]})", read_ids) == "400 bad_field: \"server_ids[1]\" repeats id 3");
  CHECK(refusal(R"({"server_ids":7})", read_ids) == "400 bad_field: \"server_ids\" must be an array of ids");
  CHECK(refusal(R"({})", read_ids) == "400 missing_field: \"server_ids\" is required");
  auto read_bool = [](const boost::json::object& o) { optional_bool(o, "disabled"); };
  CHECK(refusal(R"({"disabled":"yes"})", read_bool) == "400 bad_field: \"disabled\" must be true or false");
  auto read_name = [](const boost::json::object& o) { required_string(o, "name", 4); };
  CHECK(refusal(R"({"name":"toolong"})", read_name) == "400 bad_field: \"name\" is longer than 4 bytes");
}

TEST_CASE("the database layer refuses a NUL in a text parameter instead of cutting it") {
  const std::vector<db::Param> params{std::string("admin"), std::nullopt, std::string("admin\0x", 7)};
  try {
    db::text_params(params);
    FAIL("a NUL parameter was passed on");
  } catch (const db::DbError& e) {
    CHECK(e.sqlstate() == "22021");
    CHECK(std::string(e.what()).find("$3") != std::string::npos);
  }
  const auto passed = db::text_params({std::string("héllo"), std::nullopt});
  CHECK(passed.lengths[0] == 6);
  CHECK(passed.values[1] == nullptr);
  CHECK(db::parse_id_array("{3,1,20}") == std::vector<std::int64_t>{3, 1, 20});
  CHECK(db::parse_id_array("{}").empty());
}
