#!/bin/bash
# Install what petrel needs to build and test, from Debian's packages.
set -euo pipefail
pkgs=(meson ninja-build gcc binutils pkg-config libcmocka-dev liburing-dev libevent-dev libjansson-dev zlib1g-dev libseccomp-dev python3)
# --lab: the lab tier; --fuzz: clang and its libFuzzer and sanitizer runtimes (scripts/fuzz.sh)
for flag in "$@"; do
	case "$flag" in
	--lab) pkgs+=(qemu-system-x86 cpio gzip busybox-static curl) ;;
	--fuzz) pkgs+=(clang clang-14 libclang-rt-14-dev) ;;
	esac
done
missing=()
for p in "${pkgs[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
SUDO=""
[ "$(id -u)" = 0 ] || SUDO=sudo
echo "petrel: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
