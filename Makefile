# SPDX-License-Identifier: BSD-3-Clause
# A thin wrapper: the build is meson (in $(BUILD)/). `make demo` and `make test`
# do all set-up on a fresh Debian 12 machine: packages, hugepages, build.

BUILD ?= build
MESON_OPTS ?= -Dwerror=true
TEST_ARGS ?=
FUZZ_SECS ?= 60
SOAK_SECS ?= 600

.PHONY: all deps hugepages build demo test check sanitize fuzz soak memcheck plots install clean

all: build

deps:
	@scripts/install-deps.sh

hugepages:
	@scripts/hugepages.sh

$(BUILD)/build.ninja:
	meson setup $(BUILD) $(MESON_OPTS)

build: deps $(BUILD)/build.ninja
	ninja -C $(BUILD)

# The main job: labfwd's embedded demo (the bundled sample through the pool
# into a capture, checked against the input), then the summary.
demo: deps hugepages build
	$(BUILD)/apps/labfwd/labfwd

# Everything CI runs (docs/testing.md): every suite of the release build (the
# soak for 10 s), then the ASan+UBSan and TSan builds' suites, then each
# fuzzer for FUZZ_SECS seconds.
test: check sanitize fuzz

# The release build's suites only: the quick loop while working.
check: deps hugepages build
	@scripts/run-tests.sh $(BUILD) $(TEST_ARGS)

sanitize: deps hugepages
	@scripts/sanitize.sh asan tsan

fuzz: deps
	@scripts/fuzz.sh $(FUZZ_SECS)

# The long soak (SOAK_SECS, default 600) in the release build.
soak: deps hugepages build
	@LAB_SOAK_SECS=$(SOAK_SECS) scripts/run-tests.sh $(BUILD) --suite soak --timeout-multiplier 0

# valgrind memcheck over the unit suites of the release build.
memcheck: deps hugepages build
	@scripts/run-tests.sh $(BUILD) --setup memcheck --suite fast --suite blk --no-suite seccomp

# Run the benchmarks and draw the charts into docs/img/ (docs/observability.md,
# docs/performance.md): about 3 minutes.
plots: deps hugepages build
	@scripts/plots.sh $(BUILD)

# Install the library, headers, apps and the DPDK mempool plugin (into DPDK's
# driver directory, where every DPDK application's EAL finds it).
install: deps build
	meson install -C $(BUILD)
	ldconfig

clean:
	rm -rf $(BUILD) build-asan build-tsan build-fuzz
