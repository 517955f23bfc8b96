// The CA and JWT signing keys: loaded from the database and opened with the master key, or
// created once (under an advisory lock, so replicas starting together agree on one set).
#pragma once
#include <boost/asio/awaitable.hpp>

#include <string>

#include "pganalytics/db/async_pg.hpp"
#include "pganalytics/server/context.hpp"

namespace pga::server {

boost::asio::awaitable<KeyMaterial> load_or_create_key_material(db::AsyncConnection& conn,
                                                                const std::string& master_key);

// The master key of data_dir (created 0600 on first use).
std::string load_master_key(const std::string& data_dir);

}  // namespace pga::server
