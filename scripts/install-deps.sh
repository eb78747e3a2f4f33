#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# Install the Debian 12 packages labyrinth builds and tests with, if missing.
# Idempotent: with everything present it only checks and says so.
set -euo pipefail

PKGS=(
	gcc libc6-dev make pkg-config meson ninja-build python3
	libdpdk-dev dpdk dpdk-dev
	libpcap-dev libcunit1-dev libhugetlbfs-bin libnuma-dev liburing-dev
	libxdp-dev libbpf-dev libinih-dev libck-dev libseccomp-dev libjansson-dev
	python3-scapy iproute2 tcpreplay tcpdump fio util-linux
	clang libclang-rt-14-dev valgrind gnuplot-nox socat
	qemu-system-common libmicrohttpd-dev scdoc prometheus bash-completion
	libedit-dev
)

missing=()
for p in "${PKGS[@]}"; do
	status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
	[[ "$status" == "install ok installed" ]] || missing+=("$p")
done

if [[ ${#missing[@]} -eq 0 ]]; then
	echo "deps: all ${#PKGS[@]} Debian packages present"
	exit 0
fi
if [[ $(id -u) -ne 0 ]]; then
	echo "deps: missing packages: ${missing[*]}" >&2
	echo "deps: run as root, or: sudo apt-get install ${missing[*]}" >&2
	exit 1
fi
echo "deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get -o DPkg::Lock::Timeout=600 update -qq >/dev/null
apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "deps: installed ${#missing[@]} package(s)"
