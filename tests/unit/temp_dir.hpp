// A private temporary directory for one test case, removed with everything in it at the end,
// and appending to a file in it as a writer (PostgreSQL's logger, the spool) would.
#pragma once
#include <doctest/doctest.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>

namespace pga::test {

struct TempDir {
  std::filesystem::path path;
  TempDir() {
    std::string pattern = (std::filesystem::temp_directory_path() / "pga-unit-XXXXXX").string();
    REQUIRE(::mkdtemp(pattern.data()));
    path = pattern;
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  ~TempDir() { std::filesystem::remove_all(path); }
};

inline void append(const std::filesystem::path& file, std::string_view text) {
  std::ofstream out(file, std::ios::app | std::ios::binary);
  out << text;
}

}  // namespace pga::test
