// The reference input: the rows a load run stored, rebuilt from its manifest and written as
// COPY text files, one per family, for a plain `COPY ... FROM STDIN` into the same tables.
#pragma once
#include <cstdint>
#include <filesystem>
#include <map>
#include <string>

#include "run_manifest.hpp"

namespace pga::bench {

// Who owns an agent's rows: its server (host families) and its instance "main".
struct RowOwners {
  std::int64_t server_id = 0;
  std::int64_t instance_id = 0;
};

// Reads `collector_id <TAB> server_id <TAB> instance_id` lines (psql -At -F '\t' output).
std::map<std::string, RowOwners> read_owners(const std::filesystem::path& path);

// Writes <dir>/<family>.copy (COPY text: time, owner id, then the family's columns) and
// <dir>/<family>.columns (the matching column list), for seqs 1..stored_seq of every agent.
// Returns the rows written per family.
std::map<std::string, std::uint64_t> write_copy_files(const RunManifest& manifest,
                                                      const std::map<std::string, RowOwners>& owners,
                                                      const std::filesystem::path& dir);

}  // namespace pga::bench
