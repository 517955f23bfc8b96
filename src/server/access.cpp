// The one access check of the server: authenticate as the route's audience requires, compare the
// caller's role with the route's, and resolve and check the server a scoped route is about.
#include "pganalytics/server/access.hpp"

#include <algorithm>
#include <charconv>

#include "pganalytics/security/ca.hpp"
#include "pganalytics/server/authenticate.hpp"
#include "pganalytics/server/context.hpp"

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

std::optional<std::int64_t> positive_id(std::string_view text) {
  std::int64_t id = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), id);
  if (ec != std::errc() || end != text.data() + text.size() || id <= 0) return std::nullopt;
  return id;
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

boost::asio::awaitable<Caller> authorize(ServerContext& ctx, net::Request& request, const Access& access) {
  Caller caller;
  caller.kind = access.audience;
  if (access.audience == Audience::Public || access.audience == Audience::Enrolment) co_return caller;
  if (access.audience == Audience::Agent) {
    caller.collector_id = co_await authenticate_agent(ctx, request);
    co_return caller;
  }
  auto user = co_await authenticate_user(ctx, request);
  const auto role = parse_role(user.role).value_or(Role::Viewer);
  caller.kind = audience_of(role);
  caller.role = role;
  caller.user = std::move(user);
  if (static_cast<int>(role) < rank(access.audience))
    throw net::ApiError(403, "forbidden",
                        "this needs the " + std::string(to_string(access.audience)) + " role or higher");
  if (role != Role::Admin) {
    auto lease = co_await ctx.pool->acquire();
    auto granted = co_await repo::granted_servers(*lease, caller.user->id);
    std::sort(granted.begin(), granted.end());
    caller.servers = std::move(granted);
  }
  if (access.scope != ServerScope::None) {
    const auto server_id = co_await server_named_by(ctx, request, access.scope);
    if (!server_id || !caller.sees(*server_id))
      throw net::ApiError(404, "not_found", std::string("no such ") + scope_noun(access.scope));
    caller.scoped_server_id = server_id;
  }
  co_return caller;
}

}  // namespace pga::server
