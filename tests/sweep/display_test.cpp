// The live block: counts, one line per running run, permanent lines for
// finished runs, redrawn in place.
#include "hcx/sweep/display.h"

#include <cstdio>

#include <gtest/gtest.h>

namespace hcx::sweep {
namespace {

struct Capture {
  char* buf = nullptr;
  size_t size = 0;
  std::FILE* f = open_memstream(&buf, &size);
  std::string text() {
    std::fflush(f);
    return std::string(buf, size);
  }
  ~Capture() {
    std::fclose(f);
    free(buf);
  }
};

exec::Job job(const std::string& id, const std::string& name) {
  exec::Job j;
  j.run_id = id;
  j.name = name;
  j.total_steps = 100;
  return j;
}

TEST(SweepDisplay, LiveBlockShowsCountsAndRunningRuns) {
  Capture cap;
  {
    SweepDisplay d("quick", 3, {/*live=*/true, /*color=*/false, cap.f});
    d.started(job("aaaaaaaaaaaaaaaa", "DHC×2"), "cpu");
    d.started(job("bbbbbbbbbbbbbbbb", "Pre-Norm seed=1"), "cuda:1");
    exec::Progress p;
    p.step = 40;
    p.total = 100;
    p.loss = 2.5;
    p.eta_s = 75;
    d.progress(job("aaaaaaaaaaaaaaaa", "DHC×2"), p);
    d.refresh(/*force=*/true);
    const std::string mid = cap.text();
    const std::string last = mid.substr(mid.rfind("quick:"));
    EXPECT_EQ(last,
              "quick: 0 done · 2 running · 0 failed · 1 left · 0s\n"
              "  DHC×2            aaaaaaaa  cpu     step 40/100  loss 2.5000  ETA 1m15s\n"
              "  Pre-Norm seed=1  bbbbbbbb  cuda:1  starting (0s)\n");
    EXPECT_NE(mid.find("\x1b[3A\r\x1b[J"), std::string::npos);  // the previous block was erased

    d.finished(job("bbbbbbbbbbbbbbbb", "Pre-Norm seed=1"), RunStatus::kDiverged, 12, "loss is NaN at step 7");
    const std::string after = cap.text();
    EXPECT_NE(after.find("✗ Pre-Norm seed=1 (bbbbbbbbbbbbbbbb) diverged in 12s: loss is NaN at step 7\n"),
              std::string::npos)
        << after;
    EXPECT_EQ(after.substr(after.rfind("quick:")).rfind("quick: 0 done · 1 running · 1 failed · 1 left", 0), 0u);
    EXPECT_EQ(d.failed(), 1u);
    d.finished(job("aaaaaaaaaaaaaaaa", "DHC×2"), RunStatus::kCompleted, 80, "loss 2.1000");
    EXPECT_EQ(d.done(), 1u);
  }
  EXPECT_EQ(cap.text().find("\x1b[3"), cap.text().find("\x1b[3A"));  // no colour codes without color
}

TEST(FormatDuration, Units) {
  EXPECT_EQ(format_duration(42.4), "42s");
  EXPECT_EQ(format_duration(185), "3m05s");
  EXPECT_EQ(format_duration(3720), "1h02m");
  EXPECT_EQ(format_duration(-1), "?");
}

}  // namespace
}  // namespace hcx::sweep
