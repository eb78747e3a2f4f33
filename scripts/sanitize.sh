#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# Sanitizer runs (docs/testing.md): for each KIND given (asan, tsan; default
# both), configure and build its own tree (build-KIND, with fault injection),
# then run its suites under the meson test setup of the same name.
#   asan: AddressSanitizer + UndefinedBehaviorSanitizer over every fast suite,
#         the block, labfwd and metrics suites, the fault suite and the short
#         soak.
#   tsan: ThreadSanitizer over the multi-threaded suites: pool (owners, the
#         warden), quality, port (forwarding), ctl (the control socket's
#         thread), labfwd (workers), virtio_blk (the control thread that
#         follows the back-end), fault, soak.
# DPDK is left out of these trees: its programs that load our mempool driver
# are not built with the sanitizer. Exit status is non-zero on any finding.
set -uo pipefail
cd "$(dirname "$0")/.."
kinds=("$@")
[[ ${#kinds[@]} -eq 0 ]] && kinds=(asan tsan)
rc=0
for kind in "${kinds[@]}"; do
	case $kind in
	asan) san=address,undefined; suites=(fast blk labfwd metrics fault soak) ;;
	tsan) san=thread; suites=(pool quality port ctl labfwd virtio_blk fault soak) ;; # not seccomp (meson.build)
	*) echo "sanitize: unknown kind '$kind' (asan, tsan)" >&2; exit 2 ;;
	esac
	dir=build-$kind
	if [[ ! -f $dir/build.ninja ]]; then
		meson setup "$dir" -Dwerror=true -Db_sanitize=$san -Db_lundef=false \
			-Dfault_injection=true -Ddpdk=disabled >"$dir.setup.log" 2>&1 ||
			{ cat "$dir.setup.log"; exit 1; }
		rm -f "$dir.setup.log"
	fi
	echo "== sanitize: $kind ($san) in $dir"
	ninja -C "$dir" >/dev/null || { ninja -C "$dir"; exit 1; }
	args=()
	for s in "${suites[@]}"; do args+=(--suite "$s"); done
	# A suite named here overrides the setup's exclude_suites: say it again.
	[[ $kind == tsan ]] && args+=(--no-suite seccomp)
	scripts/run-tests.sh "$dir" --setup "$kind" "${args[@]}" || rc=1
done
exit $rc
