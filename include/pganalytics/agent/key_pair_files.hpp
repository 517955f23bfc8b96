// Replacing the agent's key and certificate as a pair, so that a crash during a renewal never
// leaves a key that does not match the certificate (which would lock the agent out).
#pragma once
#include <string>

#include "pganalytics/agent/credentials.hpp"

namespace pga::agent {

// Writes agent.key.new and agent.crt.new beside the old pair (each atomically), then moves the
// key and the certificate into place.
void install_key_pair(const StateFiles& files, const std::string& key_pem, const std::string& certificate_pem);

// At start: completes an install a crash interrupted (both new files written, or the key
// already moved), or drops an incomplete one and keeps the old pair. A no-op without one.
void finish_key_pair_install(const StateFiles& files);

}  // namespace pga::agent
