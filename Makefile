# SPDX-License-Identifier: BSD-3-Clause
# A thin wrapper: the build is meson (in $(BUILD)/). `make demo` and `make test`
# do all set-up on a fresh Debian 12 machine: packages, hugepages, build.

BUILD ?= build
MESON_OPTS ?= -Dwerror=true
TEST_ARGS ?=

.PHONY: all deps hugepages build demo test install clean

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

test: deps hugepages build
	@scripts/run-tests.sh $(BUILD) $(TEST_ARGS)

# Install the library, headers, apps and the DPDK mempool plugin (into DPDK's
# driver directory, where every DPDK application's EAL finds it).
install: deps build
	meson install -C $(BUILD)
	ldconfig

clean:
	rm -rf $(BUILD)
