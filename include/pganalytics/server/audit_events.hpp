// Writing audit rows for events anyone can cause, through the server's AuditThrottle: failed
// enrolments and sign-ins, refused tokens, permission denials. Authenticated changes (a user
// created, a collector disabled) are written directly with repo::audit instead.
#pragma once
#include <boost/asio/awaitable.hpp>

#include "pganalytics/net/http.hpp"
#include "pganalytics/server/access.hpp"
#include "pganalytics/server/context.hpp"
#include "pganalytics/server/repository.hpp"

namespace pga::server {

// Writes the entry now if the throttle admits it, else only counts it. Never throws: the audit
// must not turn the refusal being recorded into another error (a failed write is logged).
boost::asio::awaitable<void> audit_throttled(ServerContext& ctx, repo::AuditEntry entry);

// Writes a successful change made by `caller` (on a connection of its own): user, token, team
// and collector changes. Throws like repo::audit.
boost::asio::awaitable<void> audit_change(ServerContext& ctx, const Caller& caller, const net::Request& request,
                                          std::string action, std::string target, std::string detail_json = "{}");

// Writes the summary rows of the windows that are over (all of them with `all`, at shutdown).
boost::asio::awaitable<void> flush_audit_summaries(ServerContext& ctx, bool all);

// Flushes every 10 s, for as long as the server runs.
boost::asio::awaitable<void> audit_summary_loop(ServerContext& ctx);

}  // namespace pga::server
