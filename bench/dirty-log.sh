#!/bin/bash
# bench/dirty-log: the dirty bitmap against the dirty ring on this host's /dev/kvm, ratio table.
#   bench/dirty-log.sh [ROUNDS]
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh
scripts/build.sh
exec build/bench/dirty-log "${1:-20}"
