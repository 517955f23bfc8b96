// Who may call a route (CONTRACT §10). Every route of the route table declares an Access: the
// least audience allowed and, for routes about one monitored server, how its path names that
// server. authorize() is the one place that checks it, before any handler runs; handlers get the
// resulting Caller and never authenticate on their own.
#pragma once
#include <boost/asio/awaitable.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "pganalytics/net/http.hpp"
#include "pganalytics/server/repository.hpp"

namespace pga::server {

struct ServerContext;

// The roles of users (and of API tokens, which act for a user with at most the user's role).
enum class Role { Viewer = 1, User = 2, Admin = 3 };
std::optional<Role> parse_role(std::string_view text);
std::string_view to_string(Role role);

// The least a caller must present. Viewer < User < Admin: a route open to viewers is open to
// users and admins too.
enum class Audience {
  Public,     // no credentials at all (health, CA certificate, login, refresh, the console's assets)
  Enrolment,  // an enrolment token, which the handler itself checks against the database
  Agent,      // a client certificate from our CA and that collector's agent access token
  Viewer,
  User,
  Admin,
};
std::string_view to_string(Audience audience);

// How a route's path names the monitored server it is about. Such a route answers 404, as if
// the server did not exist, to a caller who may not see that server.
enum class ServerScope {
  None,       // not about one server; listing routes filter with Caller::sees themselves
  Server,     // {id} is a server id
  Instance,   // {id} is a PostgreSQL instance id
  Collector,  // {id} is a collector id
};

struct Access {
  Audience audience;
  ServerScope scope = ServerScope::None;
  // Only with a signed-in session's access token, not with an API token (minting API tokens,
  // changing one's password): a leaked API token cannot extend itself or take over the account.
  bool session_only = false;
};

// The authenticated caller, as the handlers see it.
struct Caller {
  Audience kind = Audience::Public;     // Public, Enrolment, Agent, or Viewer/User/Admin for users
  std::string collector_id;             // agents only
  std::optional<repo::UserRow> user;    // users (also when acting through an API token)
  Role role = Role::Viewer;             // users: the effective role (an API token's may be lower)
  std::optional<std::int64_t> api_token_id;  // users acting through an API token
  std::optional<std::string> session_id;     // users and agents signed in with an access token
  // The servers this caller may see; nullopt means every server (admins).
  std::optional<std::vector<std::int64_t>> servers;
  // The server the route's path named, once authorize() has resolved and allowed it.
  std::optional<std::int64_t> scoped_server_id;

  bool is_user() const noexcept { return user.has_value(); }
  bool sees(std::int64_t server_id) const;
  // "user:NAME", "collector:ID" or "anonymous", for the audit log.
  std::string actor() const;
};

// The lower of two roles: what an API token may do for its owner.
Role lower_role(Role a, Role b);

// Authenticates the request as `access` requires and checks role and scope. Throws ApiError:
// 401 without valid credentials (also a disabled user, a revoked session, an expired or revoked
// API token), 403 for a role below the route's (audited), 404 for a server outside the
// caller's scope.
//
// Scoping a new route about servers (alert rules, silences, ...): a route whose path names a
// server, instance or collector declares the ServerScope and gets 404 for anything outside the
// caller's servers before the handler runs. A route whose {id} names something else that
// belongs to a server (an alert rule with a server_id) declares ServerScope::None and the
// handler answers 404 itself unless caller.sees(row.server_id) (and, for rows about every
// server, only admins may change them); listing routes filter with caller.servers
// (nullopt = every server), as repo::list_servers does.
boost::asio::awaitable<Caller> authorize(ServerContext& ctx, net::Request& request, const Access& access);

}  // namespace pga::server
