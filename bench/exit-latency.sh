#!/bin/bash
# bench/exit-latency: petrel's run loop against a bare KVM loop, ratio table.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh
scripts/build.sh
exec build/bench/exit-latency
