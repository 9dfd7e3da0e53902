# hcx developer entry points. On a fresh Debian 12 machine:
#   make setup && make run     install dependencies, build, run the quickstart sweep and its report
#   make setup && make test    install dependencies, build, run every test
BUILD ?= build
JOBS ?= $(shell nproc)
CMAKE_FLAGS ?=
GENERATOR := $(shell command -v ninja >/dev/null 2>&1 && echo "-G Ninja")

# Debian packages the build and the tests need. libopenblas0-pthread: without
# it LibTorch's CPU matrix products run ~30x slower.
APT_PACKAGES := g++ cmake ninja-build ccache pkg-config git \
  libtorch-dev libopenblas0-pthread libcli11-dev nlohmann-json3-dev \
  libsqlitecpp-dev libsqlite3-dev sqlite3 libspdlog-dev libfmt-dev \
  googletest libgtest-dev libsentencepiece-dev sentencepiece \
  chromium procps
# The PyTorch reference of the benchmarks (make bench) only.
BENCH_PACKAGES := python3-torch

.PHONY: all build setup setup-bench configure test run bench clean

all: build

setup:
	@missing=$$(for p in $(APT_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || echo $$p; done); \
	if [ -n "$$missing" ]; then \
	  echo "make setup: installing $$missing"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing; \
	else echo "make setup: all packages present"; fi

setup-bench: setup
	@dpkg -s $(BENCH_PACKAGES) >/dev/null 2>&1 || \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $(BENCH_PACKAGES))

$(BUILD)/CMakeCache.txt:
	cmake -S . -B $(BUILD) $(GENERATOR) $(CMAKE_FLAGS)

configure: $(BUILD)/CMakeCache.txt

build: configure
	cmake --build $(BUILD) -j $(JOBS)

test: build
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS) --timeout 900

run: build
	./scripts/quickstart.sh $(BUILD)/apps/hcx/hcx

bench: setup-bench build
	./bench/run_all.sh $(BUILD)

clean:
	rm -rf $(BUILD)
