// Whole files as strings: read_file() for what a command or the library
// wrote, write_file() for a test's inputs. The one copy of each for every
// suite.
#pragma once

#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>

namespace hcx::test {

// The bytes of the file at `path`, or "" when it cannot be opened.
inline std::string read_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

// Writes `text` to the file at `path`, replacing what it held.
inline void write_file(const std::filesystem::path& path, const std::string& text) { std::ofstream(path) << text; }

}  // namespace hcx::test
