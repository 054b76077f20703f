#!/bin/bash
# bench/snapshot-cycles: one Linux guest snapshotted and restored N times in a
# row, each restore checked (its rounds go on, every CPU's timer fires).
#   bench/snapshot-cycles.sh [--diff] [CYCLES]       (default 10)
exec "$(dirname "$0")/run-in-lab.sh" snapshot-cycles 4G 3600 "$@"
