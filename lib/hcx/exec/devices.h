// Where runs execute on this machine: the visible CUDA devices (found without
// LibTorch), the CPUs this process may use, and the slots a local sweep runs
// in. Torch-free.
#pragma once

#include <optional>
#include <string>
#include <vector>

namespace hcx::exec {

// One place a run executes. A slot runs one run at a time.
struct Slot {
  int index = 0;
  std::string device;        // what `hcx run --device` gets: "cpu" or "cuda"
  std::string display;       // for people: "cpu", "cuda:0", "cuda:1"
  std::string cuda_visible;  // CUDA_VISIBLE_DEVICES of the child: a device id ("0", "GPU-…"), "" hides every GPU
  int threads = 1;           // torch / OpenMP / BLAS threads of the child
  std::vector<int> cpus;     // CPU affinity of the child; empty: not pinned
};

// The CUDA devices a child may be given, as ids for CUDA_VISIBLE_DEVICES:
// the entries of `cuda_visible_env` when it is set (comma-separated; "" or
// "-1" or "NoDevFiles" mean none), otherwise one id per entry of `proc_dir`
// (the driver's /proc/driver/nvidia/gpus), numbered 0, 1, ...
std::vector<std::string> visible_cuda_devices(const std::optional<std::string>& cuda_visible_env,
                                              const std::string& proc_dir = "/proc/driver/nvidia/gpus");

// visible_cuda_devices() for this process's environment.
std::vector<std::string> visible_cuda_devices();

// The CPUs this process may run on (sched_getaffinity), in order; at least one.
std::vector<int> usable_cpus();

struct SlotRequest {
  std::string devices = "auto";  // "auto" | "cpu" | "cuda" | "cuda:0,2" (indices into the visible devices)
  int jobs = 0;                  // slots; 0: one per CUDA device, or CPUs / threads on CPU
  int threads = 0;               // threads per run; 0: 1 on CPU when jobs is 0, else CPUs / jobs
};

// Lays out slots. CUDA: slot i gets device i mod (devices), so --jobs above
// the device count puts several runs on one GPU on purpose. CPU: when the
// slots' threads fit in `cpus`, slot i is pinned to its own CPUs
// [i*threads, (i+1)*threads). Throws Error(kBadInput) for a malformed
// --devices, a CUDA index that is not visible, CUDA asked for with none
// visible, or jobs/threads below 0.
std::vector<Slot> plan_slots(const SlotRequest& req, const std::vector<std::string>& cuda_visible,
                             const std::vector<int>& cpus);

// "2 slots: cpu (1 thread, cpu 0), cpu (1 thread, cpu 1)" — for the sweep's first log line.
std::string describe_slots(const std::vector<Slot>& slots);

}  // namespace hcx::exec
