// A blocking libpq connection for command-line tools (migrate, token, user): parameterised
// statements only, results owned by RAII handles, failures thrown as DbError.
#pragma once
#include <cstdint>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

struct pg_conn;
struct pg_result;

namespace pga::db {

// The database could not be reached or refused a statement. sqlstate() is empty when no
// statement ran (connection failure).
class DbError : public std::runtime_error {
 public:
  DbError(const std::string& message, std::string sqlstate = {})
      : std::runtime_error(message), sqlstate_(std::move(sqlstate)) {}
  const std::string& sqlstate() const { return sqlstate_; }

 private:
  std::string sqlstate_;
};

// "{1,2,3}": integer ids as one array parameter ($1::oid[], $1::bigint[]).
template <typename Ids>
std::string id_array(const Ids& ids) {
  std::string text = "{";
  for (const auto id : ids) text += (text.size() > 1 ? "," : "") + std::to_string(id);
  return text + "}";
}

// The inverse, for a bigint[] column read as text ("{1,2,3}", "{}"): the ids in order.
std::vector<std::int64_t> parse_id_array(std::string_view text);

class PgResult {
 public:
  explicit PgResult(pg_result* result);
  int rows() const;
  bool is_null(int row, int column) const;
  std::string_view get(int row, int column) const;  // "" for NULL
  long long get_int(int row, int column) const;
  int columns() const;
  std::string_view column_name(int column) const;

 private:
  std::shared_ptr<pg_result> result_;
};

using Param = std::optional<std::string>;  // nullopt is SQL NULL

// The arrays libpq takes for text parameters: NUL-terminated values with their lengths. libpq
// reads a text value up to its first NUL, so a value holding one would reach PostgreSQL cut
// short ("admin\0x" as "admin"); such a value is refused here instead (DbError, SQLSTATE 22021,
// as PostgreSQL itself refuses NUL in text), whichever check above let it through.
struct TextParams {
  std::vector<const char*> values;
  std::vector<int> lengths;
  int count() const { return static_cast<int>(values.size()); }
};
TextParams text_params(const std::vector<Param>& params);

class PgConnection {
 public:
  // Connects with a libpq URL or conninfo; application_name defaults to "pganalytics".
  static PgConnection connect(const std::string& conninfo);

  // Runs one statement with text parameters $1..$n.
  PgResult exec(const char* sql, const std::vector<Param>& params = {});
  // Runs a script of several statements (simple query protocol, no parameters). Only for SQL
  // that ships inside the binary, such as migrations.
  void exec_script(std::string_view script);

 private:
  explicit PgConnection(pg_conn* conn);
  std::shared_ptr<pg_conn> conn_;
};

}  // namespace pga::db
