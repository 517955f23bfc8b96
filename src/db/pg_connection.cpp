// Blocking libpq wrapper: every statement goes through PQexecParams, so values are never
// spliced into SQL text.
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
  std::vector<const char*> values;
  values.reserve(params.size());
  for (const auto& p : params) values.push_back(p ? p->c_str() : nullptr);
  return checked(conn_.get(), PQexecParams(conn_.get(), sql, static_cast<int>(values.size()), nullptr,
                                           values.data(), nullptr, nullptr, 0));
}

void PgConnection::exec_script(std::string_view script) {
  std::string text(script);
  checked(conn_.get(), PQexec(conn_.get(), text.c_str()));
}

}  // namespace pga::db
