// TempDir: a fresh folder under the system temp dir for one test, removed
// when it goes out of scope. The one scratch folder of every test suite.
#pragma once

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <system_error>

namespace hcx::test {

// hcx_<prefix>_<pid>_<n>: unique per process (the pid) and per instance (n),
// so parallel ctest processes and several folders in one test never meet.
class TempDir {
 public:
  explicit TempDir(const std::string& prefix = "test")
      : path_(std::filesystem::temp_directory_path() /
              ("hcx_" + prefix + "_" + std::to_string(::getpid()) + "_" + std::to_string(counter_++))) {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);  // a leftover of a crashed run with the same pid
    std::filesystem::create_directories(path_);
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::filesystem::path& path() const { return path_; }
  std::filesystem::path operator/(const std::string& name) const { return path_ / name; }
  // The path of `name` in the folder, as text (for the APIs that take a string).
  std::string file(const std::string& name) const { return (path_ / name).string(); }
  // Writes `content` to the file `name` in the folder, bytes as given, and returns its path.
  std::string write(const std::string& name, const std::string& content) const {
    std::ofstream(path_ / name, std::ios::binary) << content;
    return file(name);
  }

 private:
  static inline int counter_ = 0;
  std::filesystem::path path_;
};

}  // namespace hcx::test
