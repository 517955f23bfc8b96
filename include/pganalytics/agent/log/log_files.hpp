// Finding the log file PostgreSQL writes now: current_logfiles when the data directory is
// readable, else the newest file in log_directory that log_filename's strftime pattern matches.
#pragma once
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

#include "pganalytics/agent/log/entry.hpp"

namespace pga::agent::log {

// The syslogger's name for a destination: csvlog and jsonlog replace a ".log" ending with
// ".csv" / ".json", or append it.
std::string destination_filename(std::string_view log_filename, Format format);

// Whether `name` could have been produced by the strftime `pattern` (%Y, %m, %d, %H, %M, %S, %a,
// %b, %j, %s, ...). Unknown escapes match any run of characters.
bool matches_strftime(std::string_view pattern, std::string_view name);

// A relative log_directory is relative to the data directory, as in postgresql.conf. Returns
// nullopt when nothing matches or the directory cannot be listed.
std::optional<std::filesystem::path> find_current_log(const std::filesystem::path& log_directory,
                                                      std::string_view log_filename, Format format,
                                                      const std::filesystem::path& data_directory = {});

}  // namespace pga::agent::log
