# hcx developer entry points. On a fresh Debian 12 machine:
#   make setup && make run     install dependencies, build, run the quickstart sweep and its report
#   make setup && make test    install dependencies, build both builds, run every test in each
#
# Two builds from one source (README "Builds"):
#   debian  build/       Debian's LibTorch 1.13 (CPU), from apt
#   pypi    build-pypi/  PyPI's torch wheel (LibTorch 2.11.0, CUDA 13.0) in .venv-torch/
# BUILDS picks which ones setup, build and test handle (default both):
#   make setup BUILDS=debian && make test BUILDS=debian     the light route
BUILDS ?= debian pypi
BUILD ?= build
PYPI_BUILD ?= build-pypi
JOBS ?= $(shell nproc)
CMAKE_FLAGS ?=
GENERATOR := $(shell command -v ninja >/dev/null 2>&1 && echo "-G Ninja")

# Debian packages the build and the tests need. libopenblas0-pthread: without
# it LibTorch's CPU matrix products run ~30x slower. python3-venv: the PyPI build's venv.
# libyaml-cpp-dev: YAML experiment files. python3-torch: the export test's Python model.
# libjs-dygraphs: the HTML report's charts. tmux: the status --watch test.
APT_PACKAGES := g++ cmake ninja-build ccache pkg-config git \
  libtorch-dev libopenblas0-pthread libcli11-dev nlohmann-json3-dev \
  libsqlitecpp-dev libsqlite3-dev sqlite3 libspdlog-dev libfmt-dev \
  googletest libgtest-dev libsentencepiece-dev sentencepiece libyaml-cpp-dev \
  chromium procps python3-venv python3-torch libjs-dygraphs tmux
# The PyPI build's LibTorch. 2.11.0 is the release this project's GPU machines
# carry (torch 2.11.0+cu130) and the first whose PyPI wheel is CUDA 13.0, the
# build machines' nvcc: its cuda-toolkit pins equal that toolkit's libraries.
TORCH_PIP_VERSION := 2.11.0
TORCH_VENV ?= .venv-torch
TORCH_PYTHON := $(abspath $(TORCH_VENV))/bin/python
# The PyTorch reference of the Debian build's benchmarks (make bench) only.
BENCH_PACKAGES := python3-torch

.PHONY: all build setup setup-debian setup-pypi setup-bench setup-tools configure test test-fast test-sanitize \
        format format-check lint run bench clean \
        build-debian build-pypi test-debian test-pypi bench-debian bench-pypi

all: build

setup: $(addprefix setup-,$(BUILDS))

setup-debian:
	@missing=$$(for p in $(APT_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || echo $$p; done); \
	if [ -n "$$missing" ]; then \
	  echo "make setup: installing $$missing"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing; \
	else echo "make setup: all packages present"; fi

# The wheels are ~2.7 GB to download, 4.6 GB installed. They are kept in
# WHEEL_CACHE, so the next venv on this machine (a fresh clone, CI) installs
# without downloading them again (pip download skips the files it has).
WHEEL_CACHE ?= $(HOME)/.cache/hcx-wheels
setup-pypi: setup-debian
	@if $(TORCH_PYTHON) -c 'import importlib.metadata as m, sys; sys.exit(m.version("torch") != "$(TORCH_PIP_VERSION)")' 2>/dev/null; then \
	  echo "make setup: torch $(TORCH_PIP_VERSION) present in $(TORCH_VENV)"; \
	else \
	  echo "make setup: installing torch==$(TORCH_PIP_VERSION) into $(TORCH_VENV) (wheels in $(WHEEL_CACHE))"; \
	  python3 -m venv $(TORCH_VENV) && \
	  $(TORCH_PYTHON) -m pip download -q -d $(WHEEL_CACHE) torch==$(TORCH_PIP_VERSION) && \
	  $(TORCH_PYTHON) -m pip install -q --no-index --find-links $(WHEEL_CACHE) torch==$(TORCH_PIP_VERSION); \
	fi

setup-bench: setup
	@dpkg -s $(BENCH_PACKAGES) >/dev/null 2>&1 || \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $(BENCH_PACKAGES))

# The Debian build, on the platform hcx supports (Debian 12, GCC 12), treats
# warnings as errors: CI and `make test` build it, so a warning fails them.
$(BUILD)/CMakeCache.txt:
	cmake -S . -B $(BUILD) $(GENERATOR) -DHCX_WARNINGS_AS_ERRORS=ON $(CMAKE_FLAGS)

# The PyPI build knows the Debian build's hcx for the cross-build checkpoint test.
# Its venv comes first (order-only: a fresh clone's `make test` makes it, from
# the wheel cache when there is one; an existing venv is only checked).
$(PYPI_BUILD)/CMakeCache.txt: | setup-pypi
	cmake -S . -B $(PYPI_BUILD) $(GENERATOR) -DHCX_TORCH_PYTHON=$(TORCH_PYTHON) \
	  -DHCX_PEER_HCX=$(abspath $(BUILD))/apps/hcx/hcx $(CMAKE_FLAGS)

configure: $(BUILD)/CMakeCache.txt

build: $(addprefix build-,$(BUILDS))

build-debian: $(BUILD)/CMakeCache.txt
	cmake --build $(BUILD) -j $(JOBS)

build-pypi: $(PYPI_BUILD)/CMakeCache.txt
	cmake --build $(PYPI_BUILD) -j $(JOBS)

# Both builds first, then each suite (the PyPI suite resumes the Debian build's
# checkpoints), the torch-free suites under ASan/UBSan, then what CI can run of
# the GPU check (with the PyPI build).
test: build $(addprefix test-,$(BUILDS)) test-sanitize $(if $(filter pypi,$(BUILDS)),test-gpu-steps)

test-debian: build-debian
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS) --timeout 900

test-pypi: build-pypi
	cd $(PYPI_BUILD) && ctest --output-on-failure -j $(JOBS) --timeout 900

# The torch-free suites: seconds to build and run, for the edit-test loop.
FAST_LABELS := ^(util|config|metrics|store|view|grid|exec|slurm|sweep|report)$$
FAST_TESTS := test_util test_config test_metrics test_store test_view test_grid test_exec test_slurm test_sweep test_report

test-fast: $(BUILD)/CMakeCache.txt
	cmake --build $(BUILD) -j $(JOBS) --target $(FAST_TESTS)
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS) -L '$(FAST_LABELS)'

# The torch-free suites and the model suite built with AddressSanitizer and
# UBSan and warnings as errors (CMake option HCX_SANITIZE), in
# $(SANITIZE_BUILD): the fork, signal and pipe code of exec/, slurm/ and
# util/, the store, the report, and the raw-pointer loops of the fused CPU
# kernels (model/fused.cpp, test_model_sanitized). LibTorch itself is not
# instrumented, so data/ and train/ are not built here. Part of `make test`.
SANITIZE_BUILD ?= build-sanitize
$(SANITIZE_BUILD)/CMakeCache.txt:
	cmake -S . -B $(SANITIZE_BUILD) $(GENERATOR) -DCMAKE_BUILD_TYPE=Debug -DHCX_SANITIZE=ON \
	  -DHCX_WARNINGS_AS_ERRORS=ON $(CMAKE_FLAGS)

test-sanitize: $(SANITIZE_BUILD)/CMakeCache.txt
	cmake --build $(SANITIZE_BUILD) -j $(JOBS) --target $(FAST_TESTS) test_model_sanitized
	cd $(SANITIZE_BUILD) && ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 UBSAN_OPTIONS=print_stacktrace=1 \
	  ctest --output-on-failure -j $(JOBS) --timeout 900 -L '$(FAST_LABELS)|^model-sanitized$$'

# Style tools (Debian's clang-format and clang-tidy 14; make setup-tools installs
# them). FILES defaults to the C++ files changed against BASE (default HEAD:
# what is not committed yet, new files included; BASE=origin/main for a branch):
# format what you touch, not the whole tree.
BASE ?= HEAD
FILES ?= $(shell git diff --name-only --diff-filter=d $(BASE) -- '*.cpp' '*.h'; \
                 git ls-files --others --exclude-standard -- '*.cpp' '*.h')
setup-tools:
	@dpkg -s clang-format clang-tidy >/dev/null 2>&1 || \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends clang-format clang-tidy)

format: setup-tools
	@if [ -n "$(strip $(FILES))" ]; then clang-format -i $(FILES) && echo "format: $(words $(FILES)) files"; \
	else echo "format: no changed C++ files (FILES=... or BASE=origin/main to choose)"; fi

format-check: setup-tools
	@clang-format --dry-run --Werror $(FILES) && echo "format-check: $(words $(FILES)) files follow .clang-format"

# clang-tidy (.clang-tidy: bugprone, performance, identifier naming) over the
# changed .cpp files, with the Debian build's compile_commands.json.
lint: setup-tools $(BUILD)/CMakeCache.txt
	@srcs="$(filter %.cpp,$(FILES))"; if [ -z "$$srcs" ]; then echo "lint: no changed .cpp files"; \
	else clang-tidy -p $(BUILD) --quiet $$srcs; fi

run: build-debian
	./scripts/quickstart.sh $(BUILD)/apps/hcx/hcx

bench: setup-bench $(addprefix bench-,$(BUILDS))

bench-debian: build-debian
	PYTHON=/usr/bin/python3 ./bench/run_all.sh $(BUILD)

bench-pypi: build-pypi
	PYTHON=$(TORCH_PYTHON) ./bench/run_all.sh $(PYPI_BUILD)

clean:
	rm -rf $(BUILD) $(PYPI_BUILD) $(SANITIZE_BUILD) build-gpu

# ---- The GPU check (scripts/gpu_check.sh) for a machine with an NVIDIA GPU
# and a CUDA torch but no Debian dev packages: `make gpu-bundle` here unpacks
# the C++ dependencies into GPU_BUNDLE (~10 MiB, ignored by git); bring the
# tree with that folder to the GPU machine and run `make gpu-check` there.
GPU_BUNDLE ?= .carry/gpu-bundle
GPU_BUNDLE_PACKAGES := libcli11-dev nlohmann-json3-dev libsqlitecpp-dev libsqlite3-dev libsqlite3-0 \
  libspdlog-dev libspdlog1.10 libfmt-dev libfmt9 libgtest-dev

.PHONY: gpu-bundle gpu-check test-gpu-steps

gpu-bundle:
	rm -rf $(GPU_BUNDLE) && mkdir -p $(GPU_BUNDLE)/debs
	cd $(GPU_BUNDLE)/debs && { apt-get download $(GPU_BUNDLE_PACKAGES) 2>/dev/null || \
	  { apt-get update -qq && apt-get download $(GPU_BUNDLE_PACKAGES); }; }
	for deb in $(GPU_BUNDLE)/debs/*.deb; do dpkg-deb -x $$deb $(GPU_BUNDLE); done
	rm -rf $(GPU_BUNDLE)/debs $(GPU_BUNDLE)/usr/share/doc
	@echo "gpu-bundle: $$(du -sh $(GPU_BUNDLE) | cut -f1) in $(GPU_BUNDLE)"

gpu-check:
	HCX_BUNDLE=$(GPU_BUNDLE) ./scripts/gpu_check.sh

# What CI can run of the GPU check: bundle, configure and build against the
# PyPI wheel, then the clear refusal (exit 3) of a machine without a GPU.
test-gpu-steps: gpu-bundle
	@HCX_BUNDLE=$(GPU_BUNDLE) PYTHON=$(TORCH_PYTHON) ./scripts/gpu_check.sh; rc=$$?; \
	if [ $$rc -eq 3 ]; then echo "gpu-check: build steps passed, refused without a GPU as it should"; \
	else echo "gpu-check: expected exit 3 (no GPU) after the build steps, got $$rc"; exit 1; fi
