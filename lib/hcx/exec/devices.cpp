// Device detection and slot layout for the local executor (see devices.h).
#include "hcx/exec/devices.h"

#include <sched.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <sstream>

#include "hcx/error.h"

namespace hcx::exec {
namespace {

std::vector<std::string> split(const std::string& s, char sep) {
  std::vector<std::string> out;
  std::stringstream ss(s);
  std::string part;
  while (std::getline(ss, part, sep)) {
    part.erase(0, part.find_first_not_of(" \t"));
    part.erase(part.find_last_not_of(" \t") + 1);
    if (!part.empty()) out.push_back(part);
  }
  return out;
}

bool all_digits(const std::string& s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

}  // namespace

std::vector<std::string> visible_cuda_devices(const std::optional<std::string>& env, const std::string& proc_dir) {
  if (env) {
    if (*env == "-1" || *env == "NoDevFiles") return {};
    std::vector<std::string> ids;
    for (const auto& id : split(*env, ',')) {
      if (id == "-1") break;  // CUDA stops at the first invalid entry
      ids.push_back(id);
    }
    return ids;
  }
  std::error_code ec;
  size_t n = 0;
  for (auto it = std::filesystem::directory_iterator(proc_dir, ec); !ec && it != std::filesystem::directory_iterator();
       it.increment(ec))
    ++n;
  std::vector<std::string> ids;
  for (size_t i = 0; i < n; ++i) ids.push_back(std::to_string(i));
  return ids;
}

std::vector<std::string> visible_cuda_devices() {
  const char* env = std::getenv("CUDA_VISIBLE_DEVICES");
  return visible_cuda_devices(env ? std::optional<std::string>(env) : std::nullopt);
}

std::vector<int> usable_cpus() {
  std::vector<int> cpus;
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(0, sizeof set, &set) == 0) {
    for (int c = 0; c < CPU_SETSIZE; ++c)
      if (CPU_ISSET(c, &set)) cpus.push_back(c);
  }
  if (cpus.empty()) cpus.push_back(0);
  return cpus;
}

std::vector<Slot> plan_slots(const SlotRequest& req, const std::vector<std::string>& cuda_visible,
                             const std::vector<int>& cpus) {
  if (req.jobs < 0) throw bad_input("--jobs: expected an integer >= 1, got " + std::to_string(req.jobs));
  if (req.threads < 0) throw bad_input("--threads: expected an integer >= 1, got " + std::to_string(req.threads));
  const int n_cpus = static_cast<int>(std::max<size_t>(cpus.size(), 1));

  // Which devices: indices into cuda_visible, or none for CPU.
  std::vector<size_t> gpus;
  bool use_cuda = false;
  const std::string& d = req.devices;
  if (d == "auto") {
    use_cuda = !cuda_visible.empty();
  } else if (d == "cpu") {
    use_cuda = false;
  } else if (d == "cuda" || d.rfind("cuda:", 0) == 0) {
    use_cuda = true;
    if (cuda_visible.empty())
      throw bad_input("--devices " + d + ": no CUDA device is visible (CUDA_VISIBLE_DEVICES, /proc/driver/nvidia/gpus)");
  } else {
    throw bad_input("--devices: expected auto, cpu, cuda or cuda:0,1,..., got \"" + d + "\"");
  }
  if (use_cuda) {
    if (d.rfind("cuda:", 0) == 0) {
      for (const auto& idx : split(d.substr(5), ',')) {
        if (!all_digits(idx)) throw bad_input("--devices " + d + ": expected device indices, got \"" + idx + "\"");
        const size_t i = std::stoul(idx);
        if (i >= cuda_visible.size())
          throw bad_input("--devices " + d + ": cuda:" + idx + " is not visible (" +
                          std::to_string(cuda_visible.size()) + " visible devices)");
        if (std::find(gpus.begin(), gpus.end(), i) == gpus.end()) gpus.push_back(i);
      }
      if (gpus.empty()) throw bad_input("--devices " + d + ": expected at least one device index");
    } else {
      for (size_t i = 0; i < cuda_visible.size(); ++i) gpus.push_back(i);
    }
  }

  int jobs = req.jobs;
  int threads = req.threads;
  if (use_cuda) {
    if (jobs == 0) jobs = static_cast<int>(gpus.size());
    if (threads == 0) threads = std::max(1, n_cpus / jobs);
  } else {
    if (threads == 0) threads = jobs == 0 ? 1 : std::max(1, n_cpus / jobs);
    if (jobs == 0) jobs = std::max(1, n_cpus / threads);
  }

  const bool pin = !use_cuda && jobs * threads <= n_cpus;
  std::vector<Slot> slots;
  for (int i = 0; i < jobs; ++i) {
    Slot s;
    s.index = i;
    s.threads = threads;
    if (use_cuda) {
      const size_t g = gpus[static_cast<size_t>(i) % gpus.size()];
      s.device = "cuda";
      s.display = "cuda:" + std::to_string(g);
      s.cuda_visible = cuda_visible[g];
    } else {
      s.device = "cpu";
      s.display = "cpu";
      s.cuda_visible = "";
      if (pin)
        for (int t = 0; t < threads; ++t) s.cpus.push_back(cpus[static_cast<size_t>(i * threads + t)]);
    }
    slots.push_back(std::move(s));
  }
  return slots;
}

std::string describe_slots(const std::vector<Slot>& slots) {
  std::string out = std::to_string(slots.size()) + (slots.size() == 1 ? " slot: " : " slots: ");
  for (size_t i = 0; i < slots.size(); ++i) {
    const Slot& s = slots[i];
    out += (i ? ", " : "") + s.display + " (" + std::to_string(s.threads) + (s.threads == 1 ? " thread" : " threads");
    if (!s.cpus.empty()) {
      out += s.cpus.size() == 1 ? ", cpu " : ", cpus ";
      for (size_t c = 0; c < s.cpus.size(); ++c) out += (c ? "," : "") + std::to_string(s.cpus[c]);
    }
    out += ")";
  }
  return out;
}

}  // namespace hcx::exec
