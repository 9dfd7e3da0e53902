// hcx's one error type (CONTRIBUTING.md, "House style": errors). The kind decides what the caller
// does: bad input exits 2, an I/O problem or a failed run exits 1, a run
// owned by another process exits 4. Expected
// outcomes of a run (diverged, interrupted) are values, never exceptions.
#pragma once

#include <stdexcept>
#include <string>

namespace hcx {

enum class ErrorKind {
  kBadInput,   // a config, file or argument the user can fix; exit 2
  kIo,         // a file, database or process that failed; exit 1
  kRunFailed,  // a run or query that could not complete; exit 1
  kBusy,       // another process owns what this one needed (a run taken over by a newer attempt); exit 4
};

class Error : public std::runtime_error {
 public:
  Error(ErrorKind kind, const std::string& what) : std::runtime_error(what), kind_(kind) {}
  ErrorKind kind() const { return kind_; }
  int exit_code() const { return kind_ == ErrorKind::kBadInput ? 2 : kind_ == ErrorKind::kBusy ? 4 : 1; }

 private:
  ErrorKind kind_;
};

inline Error bad_input(const std::string& what) { return Error(ErrorKind::kBadInput, what); }
inline Error io_error(const std::string& what) { return Error(ErrorKind::kIo, what); }

}  // namespace hcx
