// fsync of a file or folder (see fsync.h).
#include "hcx/util/fsync.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>

namespace hcx::util {

bool sync_path(const std::filesystem::path& path, bool directory) {
  const int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC | (directory ? O_DIRECTORY : 0));
  if (fd < 0) return false;
  const bool ok = fsync(fd) == 0;
  const int saved = errno;
  const bool closed = close(fd) == 0;
  if (!ok) errno = saved;
  return ok && closed;
}

}  // namespace hcx::util
