// Test helper: a process that looks like another program in /proc (started
// and reaped with common/process.h).
#pragma once

#include <signal.h>
#include <unistd.h>

#include <fstream>
#include <iterator>
#include <string>

#include "common/process.h"

namespace hcx::exec::test {

// Starts `sleep <seconds>` under the program name `name`, and returns once it
// runs as `name` (before that, /proc shows the forked test binary), or after 5 s.
inline pid_t start_sleeper(const std::string& name, int seconds = 30) {
  const pid_t pid = hcx::test::spawn({"/bin/bash", "-c", "exec -a " + name + " sleep " + std::to_string(seconds)});
  hcx::test::wait_until(
      [&] {
        std::ifstream in("/proc/" + std::to_string(pid) + "/cmdline", std::ios::binary);
        const std::string cmdline((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
        return cmdline.rfind(name, 0) == 0;
      },
      5, 5);
  return pid;
}

inline void stop_sleeper(pid_t pid) {
  kill(pid, SIGKILL);
  hcx::test::wait_exit(pid);
}

}  // namespace hcx::exec::test
