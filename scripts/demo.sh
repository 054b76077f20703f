#!/bin/bash
# The main job: install dependencies, build petrel and boot the demo guest.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh
scripts/build.sh
echo "petrel: booting the demo guest (build/tests/guests/demo.bin)" >&2
exec build/petrel run --firmware build/tests/guests/demo.bin --mode long
