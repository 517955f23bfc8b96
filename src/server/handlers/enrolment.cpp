// Enrolment and certificate renewal. The CSR's requested subject and extensions are ignored:
// the CA sets CN and SAN to the collector id, clientAuth, CA:FALSE and the configured lifetime.
#include <chrono>

#include "pganalytics/common/log.hpp"
#include "pganalytics/security/random.hpp"
#include "pganalytics/server/audit_events.hpp"
#include "pganalytics/server/authenticate.hpp"
#include "pganalytics/server/handlers.hpp"
#include "pganalytics/server/json_body.hpp"
#include "pganalytics/server/sessions.hpp"

namespace pga::server::handlers {
namespace {

constexpr std::size_t kMaxCsrBytes = 16 * 1024;

struct IssuedCertificate {
  std::string pem;
  std::string serial;
  std::int64_t not_after;
};

IssuedCertificate sign_csr(const ServerContext& ctx, const std::string& csr, const std::string& collector_id) {
  auto lifetime = std::chrono::duration_cast<std::chrono::seconds>(ctx.config.agent_certificate_ttl);
  auto signed_pem = ctx.key_material.ca->sign_client_csr(csr, collector_id, lifetime);
  if (!signed_pem)
    throw net::ApiError(400, "bad_csr", "the certificate request is not acceptable: " +
                                            std::string(security::to_string(signed_pem.error())));
  return {*signed_pem, security::certificate_serial_hex(*signed_pem), security::certificate_not_after(*signed_pem)};
}

repo::AuditEntry registration_audit(const std::string& collector_id, const std::string& name,
                                    const std::string& hostname, const std::string& remote_address) {
  return {"enrolment-token", "collector.register", collector_id, true, remote_address,
          to_json({{"name", name}, {"hostname", hostname}})};
}

// Anyone can fail an enrolment: audited through the throttle, so a flood cannot write the audit
// log at its rate.
awaitable<void> refuse_enrolment(ServerContext& ctx, const net::Request& request, std::string hostname) {
  repo::AuditEntry entry{"anonymous", "collector.register", std::move(hostname), false, request.remote_address};
  co_await audit_throttled(ctx, std::move(entry));
  throw net::ApiError(401, "invalid_enrollment_token", "the enrolment token is unknown, expired or used up");
}

}  // namespace

awaitable<net::Response> ca_certificate(ServerContext& ctx, net::Request&, const Caller&) {
  net::Response response;
  response.content_type = "application/x-pem-file";
  response.body = ctx.key_material.ca->certificate_pem();
  co_return response;
}

awaitable<net::Response> register_collector(ServerContext& ctx, net::Request& request, const Caller&) {
  const auto token = bearer_token(request);
  const auto token_hash = security::hex(security::token_hash(token));
  bool usable = false;
  {
    auto lease = co_await ctx.pool->acquire();
    usable = co_await repo::enrollment_token_usable(*lease, token_hash);
  }
  if (!usable) co_await refuse_enrolment(ctx, request, "");
  auto body = parse_json_object(request.body);
  const auto name = required_string(body, "name", 200);
  const auto hostname = required_string(body, "hostname", 255);
  const auto csr = required_string(body, "csr", kMaxCsrBytes);
  const auto agent_version = optional_string(body, "agent_version", 64);

  const auto collector_id = new_uuid();
  IssuedCertificate certificate;
  TokenPair tokens;
  bool token_accepted = false;
  {
    auto lease = co_await ctx.pool->acquire();
    auto& conn = *lease;
    co_await db::in_transaction(conn, [&]() -> awaitable<void> {
      token_accepted = co_await repo::consume_enrollment_token(conn, token_hash);
      if (!token_accepted) co_return;
      certificate = sign_csr(ctx, csr, collector_id);
      const repo::NewCollector collector{collector_id,       name, hostname, agent_version, certificate.serial,
                                         certificate.not_after};
      co_await repo::create_collector(conn, collector);
      const repo::RefreshOwner owner{std::nullopt, collector_id};
      tokens = co_await start_session(ctx, conn, owner, request.remote_address);
      const auto entry = registration_audit(collector_id, name, hostname, request.remote_address);
      co_await repo::audit(conn, entry);
    });
  }
  if (!token_accepted) co_await refuse_enrolment(ctx, request, hostname);  // used up meanwhile
  log::info("enrolled collector {} ({} on {})", collector_id, name, hostname);
  co_return json_response(201, {{"collector_id", collector_id},
                                {"certificate", certificate.pem},
                                {"ca_certificate", ctx.key_material.ca->certificate_pem()},
                                {"access_token", tokens.access_token},
                                {"refresh_token", tokens.refresh_token},
                                {"expires_in", tokens.expires_in}});
}

awaitable<net::Response> renew_certificate(ServerContext& ctx, net::Request& request, const Caller& caller) {
  const auto& collector_id = caller.collector_id;
  auto body = parse_json_object(request.body);
  const auto csr = required_string(body, "csr", kMaxCsrBytes);
  const auto certificate = sign_csr(ctx, csr, collector_id);
  auto lease = co_await ctx.pool->acquire();
  co_await repo::record_collector_certificate(*lease, collector_id, certificate.serial, certificate.not_after);
  const repo::AuditEntry entry{caller.actor(), "collector.renew_certificate", collector_id, true,
                               request.remote_address};
  co_await repo::audit(*lease, entry);
  co_return json_response(200, {{"certificate", certificate.pem},
                                {"ca_certificate", ctx.key_material.ca->certificate_pem()},
                                {"expires_at", certificate.not_after}});
}

}  // namespace pga::server::handlers
