#!/bin/bash
# Configure (once) and build petrel into build/ (or $PETREL_BUILD).
set -euo pipefail
cd "$(dirname "$0")/.."
dir=${PETREL_BUILD:-build}
[ -f "$dir/build.ninja" ] || meson setup "$dir" >/dev/null
ninja -C "$dir" >/dev/null
