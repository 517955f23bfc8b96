// The one access check of the server: authenticate as the route's audience requires, compare the
// caller's role with the route's, and resolve and check the server a scoped route is about.
// Refusals of a presented credential and of a role are audited (throttled, audit_events.hpp).
#include "pganalytics/server/access.hpp"

#include <algorithm>

#include "pganalytics/security/ca.hpp"
#include "pganalytics/server/audit_events.hpp"
#include "pganalytics/server/authenticate.hpp"
#include "pganalytics/server/context.hpp"
#include "pganalytics/server/json_body.hpp"
#include "pganalytics/server/request_params.hpp"

namespace pga::server {
namespace {

int rank(Audience audience) {
  switch (audience) {
    case Audience::Viewer: return static_cast<int>(Role::Viewer);
    case Audience::User: return static_cast<int>(Role::User);
    case Audience::Admin: return static_cast<int>(Role::Admin);
    default: return 0;
  }
}

Audience audience_of(Role role) {
  switch (role) {
    case Role::Viewer: return Audience::Viewer;
    case Role::User: return Audience::User;
    case Role::Admin: return Audience::Admin;
  }
  return Audience::Viewer;
}

const char* scope_noun(ServerScope scope) {
  switch (scope) {
    case ServerScope::Server: return "server";
    case ServerScope::Instance: return "instance";
    case ServerScope::Collector: return "collector";
    case ServerScope::None: break;
  }
  return "resource";
}

// The server that the path's {id} belongs to; nullopt when there is no such object.
boost::asio::awaitable<std::optional<std::int64_t>> server_named_by(ServerContext& ctx, const net::Request& request,
                                                                    ServerScope scope) {
  const auto& id = request.path_param("id");
  if (scope == ServerScope::Collector) {
    if (!security::is_lowercase_uuid(id)) co_return std::nullopt;
    auto lease = co_await ctx.pool->acquire();
    co_return co_await repo::server_of_collector(*lease, id);
  }
  const auto number = positive_id(id);
  if (!number) co_return std::nullopt;
  auto lease = co_await ctx.pool->acquire();
  if (scope == ServerScope::Instance) co_return co_await repo::server_of_instance(*lease, *number);
  co_return co_await repo::server_exists(*lease, *number) ? number : std::nullopt;
}

}  // namespace

std::optional<Role> parse_role(std::string_view text) {
  if (text == "admin") return Role::Admin;
  if (text == "user") return Role::User;
  if (text == "viewer") return Role::Viewer;
  return std::nullopt;
}

std::string_view to_string(Role role) {
  switch (role) {
    case Role::Admin: return "admin";
    case Role::User: return "user";
    case Role::Viewer: return "viewer";
  }
  return "viewer";
}

std::string_view to_string(Audience audience) {
  switch (audience) {
    case Audience::Public: return "public";
    case Audience::Enrolment: return "enrolment";
    case Audience::Agent: return "agent";
    case Audience::Viewer: return "viewer";
    case Audience::User: return "user";
    case Audience::Admin: return "admin";
  }
  return "public";
}

bool Caller::sees(std::int64_t server_id) const {
  if (!is_user()) return false;
  if (!servers) return true;
  return std::binary_search(servers->begin(), servers->end(), server_id);
}

std::string Caller::actor() const {
  if (user) return "user:" + user->username;
  if (!collector_id.empty()) return "collector:" + collector_id;
  return "anonymous";
}

Role lower_role(Role a, Role b) { return static_cast<int>(a) < static_cast<int>(b) ? a : b; }

namespace {

repo::AuditEntry refusal_entry(const net::Request& request, std::string actor, const std::string& action,
                               const std::string& reason) {
  return {std::move(actor), action, request.method + " " + request.route, false, request.remote_address,
          to_json({{"reason", reason}})};
}

// Authenticates a user; a presented token that fails is audited (throttled) before the 401.
boost::asio::awaitable<Caller> authenticate_audited(ServerContext& ctx, net::Request& request) {
  std::exception_ptr failure;
  std::string reason;
  try {
    co_return co_await authenticate_user(ctx, request);
  } catch (const net::ApiError& e) {
    failure = std::current_exception();
    if (e.status() == 401 && e.code() != "missing_token") reason = e.code();
  }
  if (!reason.empty()) co_await audit_throttled(ctx, refusal_entry(request, "anonymous", "auth.token", reason));
  std::rethrow_exception(failure);
}

boost::asio::awaitable<void> deny(ServerContext& ctx, const net::Request& request, const Caller& caller,
                                  const std::string& code, const std::string& message) {
  co_await audit_throttled(ctx, refusal_entry(request, caller.actor(), "access.denied", code));
  throw net::ApiError(403, code, message);
}

}  // namespace

boost::asio::awaitable<Caller> authorize(ServerContext& ctx, net::Request& request, const Access& access) {
  if (access.audience == Audience::Public || access.audience == Audience::Enrolment) {
    Caller anonymous;
    anonymous.kind = access.audience;
    co_return anonymous;
  }
  if (access.audience == Audience::Agent) {
    auto agent = co_await authenticate_agent(ctx, request);
    Caller caller;
    caller.kind = Audience::Agent;
    caller.collector_id = std::move(agent.collector_id);
    caller.session_id = std::move(agent.session_id);
    co_return caller;
  }
  auto caller = co_await authenticate_audited(ctx, request);
  caller.kind = audience_of(caller.role);
  if (static_cast<int>(caller.role) < rank(access.audience))
    co_await deny(ctx, request, caller, "forbidden",
                  "this needs the " + std::string(to_string(access.audience)) + " role or higher");
  if (access.session_only && caller.api_token_id)
    co_await deny(ctx, request, caller, "session_required", "an API token cannot do this: sign in");
  if (access.scope != ServerScope::None) {
    const auto server_id = co_await server_named_by(ctx, request, access.scope);
    if (!server_id || !caller.sees(*server_id))
      throw net::ApiError(404, "not_found", std::string("no such ") + scope_noun(access.scope));
    caller.scoped_server_id = server_id;
  }
  co_return caller;
}

}  // namespace pga::server
