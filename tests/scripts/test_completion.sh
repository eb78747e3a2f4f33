#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# The bash completion (apps/completion/labyrinth.bash) as bash-completion
# runs it: each command line below, split into words as readline splits them
# (at spaces, ':' and '='), must complete to exactly the words given.
# Skipped (77) without bash-completion.
# Usage: test_completion.sh BUILD SRC
set -u
build=$1 src=$2
bc=/usr/share/bash-completion/bash_completion
[[ -r $bc ]] || { echo "skip: no $bc (Debian's bash-completion)"; exit 77; }
source "$bc"
source "$src/apps/completion/labyrinth.bash"
for app in labfwd labblk labctl labbench labcheck; do
	PATH=$build/apps/$app:$PATH
done
# No live process for labctl's pool names: an empty runtime directory.
export LAB_RUNTIME_DIR=$(mktemp -d)
trap 'rm -rf "$LAB_RUNTIME_DIR"' EXIT
fail=0

complete_line() {
	local line=$1 cur= ch k f
	COMP_LINE=$line
	COMP_POINT=${#line}
	COMP_WORDS=()
	for ((k = 0; k < ${#line}; k++)); do
		ch=${line:k:1}
		if [[ $ch == " " ]]; then
			[[ -n $cur ]] && COMP_WORDS+=("$cur")
			cur=
		elif [[ $ch == ":" || $ch == "=" ]]; then
			[[ -n $cur ]] && COMP_WORDS+=("$cur")
			COMP_WORDS+=("$ch")
			cur=
		else
			cur+=$ch
		fi
	done
	COMP_WORDS+=("$cur")
	COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
	COMPREPLY=()
	f=$(complete -p "${COMP_WORDS[0]}" | sed 's/.*-F \([^ ]*\) .*/\1/')
	"$f" "${COMP_WORDS[0]}" "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD - 1]}"
}

expect() { # line words...
	local line=$1 got want
	shift
	complete_line "$line"
	got=$(printf '%s\n' "${COMPREPLY[@]}" | sort | tr '\n' ' ')
	want=$(printf '%s\n' "$@" | sort | tr '\n' ' ')
	if [[ $got != "$want" ]]; then
		echo "FAIL: '$line' completes to '$got', want '$want'" >&2
		fail=1
	fi
}

touch "$LAB_RUNTIME_DIR/in.pcap" "$LAB_RUNTIME_DIR/inx.pcap"
expect "labfwd --po" --port --pool-size --pool-max
expect "labfwd --met" --metrics --metrics-remote
expect "labfwd -p " pcap: af_packet: af_xdp: ring: null: virtio_user: vhost:
expect "labfwd -p af_" af_packet: af_xdp:
expect "labfwd -p ring:" name= size= loop= stamp= bytes=
expect "labfwd -p ring:name=a,s" a,size= a,stamp=
expect "labfwd -p pcap:rx=$LAB_RUNTIME_DIR/in" "$LAB_RUNTIME_DIR/in.pcap" "$LAB_RUNTIME_DIR/inx.pcap"
expect "labfwd -p pcap:rx=a.pcap,timing=f" fast
expect "labfwd -p pcap:rx=a.pcap,m" a.pcap,multiplier= a.pcap,mbps=
expect "labfwd --mode m" macswap
expect "labfwd --quality " off sampled full
expect "labfwd --owners " worker queue
expect "labblk --dev " uring: ram:
expect "labblk --dev ram:" size= block=
expect "labblk --rw rand" randread randwrite randrw
expect "labblk --ioe" --ioengine=
expect "labblk --output-format j" json json+
expect "labblk --rate" --rate_iops
expect "labblk $LAB_RUNTIME_DIR/inx" "$LAB_RUNTIME_DIR/inx.pcap"
expect "labctl " list info pools pool ports set watch metrics raw help
expect "labctl set " quality log
expect "labctl -s x set quality " off sampled full
expect "labctl set log w" warning
expect "labctl --inter" --interactive --interval
expect "labbench " pool ring quality port --help
expect "labcheck --d" --dump-config
# Every option a program's --help lists is offered for '--'.
for app in labfwd labblk labctl labcheck; do
	complete_line "$app --"
	for o in $("$app" --help | grep -oE '(^|[ ,])--[a-zA-Z][a-zA-Z0-9_-]*' | sed 's/^[ ,]//' |
		   sort -u); do
		[[ " ${COMPREPLY[*]} " == *" $o "* || " ${COMPREPLY[*]} " == *" $o= "* ]] ||
			{ echo "FAIL: '$app --' does not offer $o" >&2; fail=1; }
	done
done
[[ $fail == 0 ]] && echo "completion: every case completes as expected"
exit $fail
