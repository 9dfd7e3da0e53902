// Test helper: a process that looks like another program in /proc.
#pragma once

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <iterator>
#include <string>

namespace hcx::exec::test {

// Starts `sleep <seconds>` under the program name `name`, and returns once it
// runs as `name` (before that, /proc shows the forked test binary).
inline pid_t start_sleeper(const std::string& name, int seconds = 30) {
  const std::string script = "exec -a " + name + " sleep " + std::to_string(seconds);
  const pid_t pid = fork();
  if (pid == 0) {
    execl("/bin/bash", "bash", "-c", script.c_str(), nullptr);
    _exit(127);
  }
  for (int i = 0; i < 1000; ++i) {
    std::ifstream in("/proc/" + std::to_string(pid) + "/cmdline", std::ios::binary);
    const std::string cmdline((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    if (cmdline.rfind(name, 0) == 0) break;
    usleep(5000);
  }
  return pid;
}

inline void stop_sleeper(pid_t pid) {
  kill(pid, SIGKILL);
  waitpid(pid, nullptr, 0);
}

}  // namespace hcx::exec::test
