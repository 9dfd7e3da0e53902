// Device detection and slot layout: defaults, pinning, and bad --devices.
#include "hcx/exec/devices.h"

#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>

#include "common/temp_dir.h"
#include "hcx/error.h"

namespace hcx::exec {
namespace {

TEST(VisibleCudaDevices, EnvironmentWinsOverTheDriver) {
  const hcx::test::TempDir gpus("gpus");
  const std::filesystem::path& dir = gpus.path();
  std::filesystem::create_directories(dir / "0000:01:00.0");
  std::filesystem::create_directories(dir / "0000:02:00.0");
  EXPECT_EQ(visible_cuda_devices(std::nullopt, dir.string()), (std::vector<std::string>{"0", "1"}));
  EXPECT_EQ(visible_cuda_devices(std::string("3,1"), dir.string()), (std::vector<std::string>{"3", "1"}));
  EXPECT_EQ(visible_cuda_devices(std::string("GPU-a1b2, GPU-c3"), dir.string()),
            (std::vector<std::string>{"GPU-a1b2", "GPU-c3"}));
  EXPECT_TRUE(visible_cuda_devices(std::string(""), dir.string()).empty());
  EXPECT_TRUE(visible_cuda_devices(std::string("-1"), dir.string()).empty());
  EXPECT_EQ(visible_cuda_devices(std::string("0,-1,1"), dir.string()), (std::vector<std::string>{"0"}));
  EXPECT_TRUE(visible_cuda_devices(std::nullopt, (dir / "missing").string()).empty());
}

TEST(UsableCpus, AtLeastOne) { EXPECT_GE(usable_cpus().size(), 1u); }

TEST(PlanSlots, CpuDefaultIsOneSingleThreadedSlotPerCore) {
  const auto slots = plan_slots({}, {}, {0, 1, 2, 3});
  ASSERT_EQ(slots.size(), 4u);
  for (size_t i = 0; i < slots.size(); ++i) {
    EXPECT_EQ(slots[i].device, "cpu");
    EXPECT_EQ(slots[i].cuda_visible, "");
    EXPECT_EQ(slots[i].threads, 1);
    EXPECT_EQ(slots[i].cpus, std::vector<int>{static_cast<int>(i)});
  }
}

TEST(PlanSlots, CpuJobsAndThreadsDivideTheCores) {
  SlotRequest threads2;
  threads2.threads = 2;
  auto slots = plan_slots(threads2, {}, {4, 5, 6, 7, 8});
  ASSERT_EQ(slots.size(), 2u);  // 5 cores / 2 threads
  EXPECT_EQ(slots[1].cpus, (std::vector<int>{6, 7}));

  SlotRequest jobs2;
  jobs2.jobs = 2;
  slots = plan_slots(jobs2, {"0"}, {0, 1, 2, 3, 4, 5});
  ASSERT_EQ(slots.size(), 2u);  // auto picks the GPU
  EXPECT_EQ(slots[0].device, "cuda");

  jobs2.devices = "cpu";
  slots = plan_slots(jobs2, {"0"}, {0, 1, 2, 3, 4, 5});
  ASSERT_EQ(slots.size(), 2u);
  EXPECT_EQ(slots[0].threads, 3);
  EXPECT_EQ(slots[0].cuda_visible, "");  // GPUs hidden from CPU runs

  SlotRequest oversubscribed;
  oversubscribed.jobs = 4;
  oversubscribed.threads = 2;
  oversubscribed.devices = "cpu";
  slots = plan_slots(oversubscribed, {}, {0, 1});
  ASSERT_EQ(slots.size(), 4u);
  EXPECT_TRUE(slots[0].cpus.empty());  // does not fit: no pinning
}

TEST(PlanSlots, CudaDefaultIsOneSlotPerVisibleDevice) {
  const auto slots = plan_slots({}, {"2", "5"}, {0, 1, 2, 3});
  ASSERT_EQ(slots.size(), 2u);
  EXPECT_EQ(slots[0].device, "cuda");
  EXPECT_EQ(slots[0].display, "cuda:0");
  EXPECT_EQ(slots[0].cuda_visible, "2");
  EXPECT_EQ(slots[1].cuda_visible, "5");
  EXPECT_EQ(slots[1].threads, 2);
  EXPECT_TRUE(slots[0].cpus.empty());
}

TEST(PlanSlots, ExplicitCudaDevicesAndMoreJobsThanDevices) {
  SlotRequest req;
  req.devices = "cuda:1,2";
  req.jobs = 3;
  const auto slots = plan_slots(req, {"a", "b", "c"}, {0});
  ASSERT_EQ(slots.size(), 3u);
  EXPECT_EQ(slots[0].cuda_visible, "b");
  EXPECT_EQ(slots[1].cuda_visible, "c");
  EXPECT_EQ(slots[2].cuda_visible, "b");
  EXPECT_EQ(slots[2].display, "cuda:1");
}

TEST(PlanSlots, BadRequestsNameTheFlag) {
  const struct {
    const char* devices;
    int jobs;
    std::vector<std::string> visible;
    const char* error;
  } cases[] = {
      {"gpu", 0, {}, "--devices: expected auto, cpu, cuda or cuda:0,1,..., got \"gpu\""},
      {"cuda", 0, {}, "--devices cuda: no CUDA device is visible"},
      {"cuda:2", 0, {"0", "1"}, "--devices cuda:2: cuda:2 is not visible (2 visible devices)"},
      {"cuda:x", 0, {"0"}, "--devices cuda:x: expected device indices, got \"x\""},
      {"cpu", -1, {}, "--jobs: expected an integer >= 1, got -1"},
  };
  for (const auto& c : cases) {
    SlotRequest req;
    req.devices = c.devices;
    req.jobs = c.jobs;
    try {
      plan_slots(req, c.visible, {0, 1});
      ADD_FAILURE() << c.devices;
    } catch (const Error& e) {
      EXPECT_EQ(std::string(e.what()).substr(0, strlen(c.error)), c.error);
      EXPECT_EQ(e.exit_code(), 2);
    }
  }
}

TEST(DescribeSlots, NamesDevicesThreadsAndCpus) {
  SlotRequest req;
  req.jobs = 2;
  EXPECT_EQ(describe_slots(plan_slots(req, {}, {0, 1, 2, 3})),
            "2 slots: cpu (2 threads, cpus 0,1), cpu (2 threads, cpus 2,3)");
}

}  // namespace
}  // namespace hcx::exec
