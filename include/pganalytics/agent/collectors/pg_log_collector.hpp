// The pg_log family: events of one instance's PostgreSQL log, followed where the server's settings
// (or the [[instance]] log_path) say it is, from a position that survives agent restarts.
#pragma once
#include <filesystem>
#include <memory>

#include "pganalytics/agent/collector.hpp"
#include "pganalytics/agent/collectors/pg_session.hpp"
#include "pganalytics/common/agent_config.hpp"

namespace pga::agent::collectors {

// The read position is kept in state_dir/log/<instance>-<format>.json and saved only from
// on_spooled(). A log that cannot be found or read disables the family for this instance with one
// warning saying what to set or grant; it is looked at again every few minutes.
CollectorPtr make_pg_log(std::shared_ptr<PgSession> session, const InstanceConfig& instance,
                         const std::filesystem::path& state_dir);

}  // namespace pga::agent::collectors
