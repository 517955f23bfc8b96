// The route handlers of the server, grouped by file in src/server/handlers/. Each takes the
// shared context, the request and the caller that authorize() let through (routes.cpp declares
// who may call what) and returns the response or throws ApiError.
#pragma once
#include <boost/asio/awaitable.hpp>

#include "pganalytics/net/http.hpp"
#include "pganalytics/server/access.hpp"
#include "pganalytics/server/context.hpp"

namespace pga::server::handlers {

using boost::asio::awaitable;

awaitable<net::Response> health(ServerContext& ctx, net::Request& request, const Caller& caller);
// The server's own Prometheus metrics (text exposition format).
awaitable<net::Response> self_metrics(ServerContext& ctx, net::Request& request, const Caller& caller);

// The CA certificate (public), so `register --ca-fingerprint` can fetch and pin it.
awaitable<net::Response> ca_certificate(ServerContext& ctx, net::Request& request, const Caller& caller);
awaitable<net::Response> register_collector(ServerContext& ctx, net::Request& request, const Caller& caller);
awaitable<net::Response> renew_certificate(ServerContext& ctx, net::Request& request, const Caller& caller);

// The collector's configuration with an ETag; If-None-Match with the same tag answers 304.
awaitable<net::Response> collector_config(ServerContext& ctx, net::Request& request, const Caller& caller);
// PUT /api/v1/collectors/{id}/config (users of its server): new family settings, a new config_version.
awaitable<net::Response> update_collector_config(ServerContext& ctx, net::Request& request, const Caller& caller);

// The read API for users: inventory and time series.
awaitable<net::Response> list_collectors(ServerContext& ctx, net::Request& request, const Caller& caller);
awaitable<net::Response> get_collector(ServerContext& ctx, net::Request& request, const Caller& caller);
awaitable<net::Response> list_servers(ServerContext& ctx, net::Request& request, const Caller& caller);
awaitable<net::Response> get_server(ServerContext& ctx, net::Request& request, const Caller& caller);
awaitable<net::Response> server_metrics(ServerContext& ctx, net::Request& request, const Caller& caller);

awaitable<net::Response> login(ServerContext& ctx, net::Request& request, const Caller& caller);
awaitable<net::Response> logout(ServerContext& ctx, net::Request& request, const Caller& caller);
awaitable<net::Response> refresh(ServerContext& ctx, net::Request& request, const Caller& caller);

// User management (admins): users, their servers, teams (users.cpp, teams.cpp).
awaitable<net::Response> list_users(ServerContext& ctx, net::Request& request, const Caller& caller);
awaitable<net::Response> create_user(ServerContext& ctx, net::Request& request, const Caller& caller);
awaitable<net::Response> update_user(ServerContext& ctx, net::Request& request, const Caller& caller);
awaitable<net::Response> delete_user(ServerContext& ctx, net::Request& request, const Caller& caller);
awaitable<net::Response> set_user_servers(ServerContext& ctx, net::Request& request, const Caller& caller);
awaitable<net::Response> list_teams(ServerContext& ctx, net::Request& request, const Caller& caller);
awaitable<net::Response> create_team(ServerContext& ctx, net::Request& request, const Caller& caller);
awaitable<net::Response> delete_team(ServerContext& ctx, net::Request& request, const Caller& caller);
awaitable<net::Response> set_team_members(ServerContext& ctx, net::Request& request, const Caller& caller);
awaitable<net::Response> set_team_servers(ServerContext& ctx, net::Request& request, const Caller& caller);

// Every signed-in user about themselves (me.cpp) and their API tokens (api_tokens.cpp).
awaitable<net::Response> me(ServerContext& ctx, net::Request& request, const Caller& caller);
awaitable<net::Response> change_my_password(ServerContext& ctx, net::Request& request, const Caller& caller);
awaitable<net::Response> my_sessions(ServerContext& ctx, net::Request& request, const Caller& caller);
awaitable<net::Response> revoke_my_session(ServerContext& ctx, net::Request& request, const Caller& caller);
awaitable<net::Response> list_api_tokens(ServerContext& ctx, net::Request& request, const Caller& caller);
awaitable<net::Response> create_api_token(ServerContext& ctx, net::Request& request, const Caller& caller);
awaitable<net::Response> revoke_api_token(ServerContext& ctx, net::Request& request, const Caller& caller);

// The audit log (admins, audit.cpp).
awaitable<net::Response> list_audit(ServerContext& ctx, net::Request& request, const Caller& caller);
awaitable<net::Response> verify_audit(ServerContext& ctx, net::Request& request, const Caller& caller);

// Collectors' lifecycle (admins, collector_lifecycle.cpp).
awaitable<net::Response> disable_collector(ServerContext& ctx, net::Request& request, const Caller& caller);
awaitable<net::Response> enable_collector(ServerContext& ctx, net::Request& request, const Caller& caller);
awaitable<net::Response> rename_collector(ServerContext& ctx, net::Request& request, const Caller& caller);
awaitable<net::Response> delete_collector(ServerContext& ctx, net::Request& request, const Caller& caller);

// A batch of samples from an agent (CONTRACT §5): stored atomically, or refused whole.
awaitable<net::Response> push_metrics(ServerContext& ctx, net::Request& request, const Caller& caller);

}  // namespace pga::server::handlers
