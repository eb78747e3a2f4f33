# SPDX-License-Identifier: BSD-3-Clause
# A thin wrapper: the build is meson (in $(BUILD)/). `make demo` and `make test`
# do all set-up on a fresh Debian 12 machine: packages, hugepages, build.

BUILD ?= build
MESON_OPTS ?= -Dwerror=true
TEST_ARGS ?=
# make check SUITE=ctl (one suite), TEST=config (one test program of the meson
# test list), CASE=test_long_line (one CUnit test, with SUITE or TEST)
# Taken from the command line only: a TEST or CASE in the environment (common
# names) must not narrow or refuse a run.
SUITE := $(if $(filter command line,$(origin SUITE)),$(SUITE))
TEST := $(if $(filter command line,$(origin TEST)),$(TEST))
CASE := $(if $(filter command line,$(origin CASE)),$(CASE))
FUZZ_SECS ?= 60
SOAK_SECS ?= 600

.PHONY: all deps hugepages build demo test check sanitize fuzz soak memcheck plots install \
	uninstall clean test-whole

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
# It runs everything: a selection (SUITE, TEST, CASE, TEST_ARGS) is refused
# rather than ignored, since it belongs to `make check`.
test: test-whole check sanitize fuzz

test-whole:
	@if [ -n "$(SUITE)$(TEST)$(CASE)$(TEST_ARGS)" ]; then \
		echo "make test runs every stage; to run a part of the release build's" \
		     "suites: make check SUITE=NAME, TEST=NAME, CASE=NAME or TEST_ARGS=..." \
		     "(docs/testing.md)" >&2; exit 1; fi

# The release build's suites only: the quick loop while working. SUITE picks
# a suite (tests/meson.build), TEST one test program, CASE one CUnit test.
check: deps hugepages build
	@LAB_TEST_CASE=$(CASE) scripts/run-tests.sh $(BUILD) $(if $(SUITE),--suite $(SUITE)) \
		$(TEST) $(TEST_ARGS)

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
# DESTDIR=/tmp/root installs under that directory instead (no ldconfig).
# The list of installed files is kept for `make uninstall`.
install: deps build
	meson install -C $(BUILD) $(if $(DESTDIR),--destdir $(DESTDIR))
	cp $(BUILD)/meson-logs/install-log.txt $(BUILD)/installed-files.txt
	$(if $(DESTDIR),,ldconfig)

# Remove what the last `make install` installed (its list in
# $(BUILD)/installed-files.txt: the files, then the directories it made, if
# they are empty now).
uninstall:
	@test -f $(BUILD)/installed-files.txt || \
		{ echo "uninstall: no $(BUILD)/installed-files.txt: nothing installed" \
		       "from $(BUILD) by make install" >&2; exit 1; }
	@grep -v '^#' $(BUILD)/installed-files.txt | while read -r f; do \
		[ -d "$$f" ] || rm -fv -- "$$f"; done
	@grep -v '^#' $(BUILD)/installed-files.txt | sort -r | while read -r d; do \
		[ ! -d "$$d" ] || rmdir --ignore-fail-on-non-empty -- "$$d"; done
	rm -f $(BUILD)/installed-files.txt
	$(if $(DESTDIR),,ldconfig)

clean:
	rm -rf $(BUILD) build-asan build-tsan build-fuzz
