// Blocking libpq wrapper: every statement goes through PQexecParams, so values are never
// spliced into SQL text, and are passed with their lengths (text_params refuses a NUL in one).
#include "pganalytics/db/pg_connection.hpp"

#include <libpq-fe.h>

#include <string>

#include "pganalytics/common/log.hpp"

namespace pga::db {
namespace {

std::string trimmed_error(const char* message) {
  std::string text = message ? message : "";
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.pop_back();
  return text;
}

PgResult checked(pg_conn* conn, PGresult* raw) {
  PgResult result(raw);
  auto status = PQresultStatus(raw);
  if (status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK) return result;
  const char* state = raw ? PQresultErrorField(raw, PG_DIAG_SQLSTATE) : nullptr;
  throw DbError(trimmed_error(raw ? PQresultErrorMessage(raw) : PQerrorMessage(conn)), state ? state : "");
}

}  // namespace

std::vector<std::int64_t> parse_id_array(std::string_view text) {
  std::vector<std::int64_t> ids;
  if (text.size() < 2 || text.front() != '{' || text.back() != '}') return ids;
  text = text.substr(1, text.size() - 2);
  while (!text.empty()) {
    const auto comma = text.find(',');
    ids.push_back(std::stoll(std::string(text.substr(0, comma))));
    if (comma == std::string_view::npos) break;
    text.remove_prefix(comma + 1);
  }
  return ids;
}

TextParams text_params(const std::vector<Param>& params) {
  TextParams out;
  out.values.reserve(params.size());
  out.lengths.reserve(params.size());
  for (std::size_t i = 0; i < params.size(); ++i) {
    const auto& p = params[i];
    if (p && p->find('\0') != std::string::npos)
      throw DbError("parameter $" + std::to_string(i + 1) + " contains a NUL byte, which text cannot hold", "22021");
    out.values.push_back(p ? p->c_str() : nullptr);
    out.lengths.push_back(p ? static_cast<int>(p->size()) : 0);
  }
  return out;
}

PgResult::PgResult(pg_result* result) : result_(result, PQclear) {}

int PgResult::rows() const { return PQntuples(result_.get()); }

bool PgResult::is_null(int row, int column) const { return PQgetisnull(result_.get(), row, column) != 0; }

std::string_view PgResult::get(int row, int column) const {
  return {PQgetvalue(result_.get(), row, column),
          static_cast<std::size_t>(PQgetlength(result_.get(), row, column))};
}

long long PgResult::get_int(int row, int column) const { return std::stoll(std::string(get(row, column))); }

int PgResult::columns() const { return PQnfields(result_.get()); }

std::string_view PgResult::column_name(int column) const { return PQfname(result_.get(), column); }

PgConnection::PgConnection(pg_conn* conn) : conn_(conn, PQfinish) {}

PgConnection PgConnection::connect(const std::string& conninfo) {
  const char* keys[] = {"dbname", "application_name", "connect_timeout", nullptr};
  const char* values[] = {conninfo.c_str(), "pganalytics", "10", nullptr};
  // expand_dbname=1: the first "dbname" may itself be a URL or conninfo whose own settings win.
  PGconn* conn = PQconnectdbParams(keys, values, 1);
  if (!conn) throw DbError("out of memory while connecting to PostgreSQL");
  PgConnection wrapped(conn);
  if (PQstatus(conn) != CONNECTION_OK)
    throw DbError("cannot connect to PostgreSQL (" + log::redact(conninfo) + "): " + trimmed_error(PQerrorMessage(conn)));
  PQsetNoticeProcessor(conn, [](void*, const char*) {}, nullptr);
  return wrapped;
}

PgResult PgConnection::exec(const char* sql, const std::vector<Param>& params) {
  const auto text = text_params(params);
  return checked(conn_.get(), PQexecParams(conn_.get(), sql, text.count(), nullptr, text.values.data(),
                                           text.lengths.data(), nullptr, 0));
}

void PgConnection::exec_script(std::string_view script) {
  std::string text(script);
  checked(conn_.get(), PQexec(conn_.get(), text.c_str()));
}

}  // namespace pga::db
