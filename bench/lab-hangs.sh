#!/bin/bash
# bench/lab-hangs: how often a Linux boot hangs or complains under petrel and
# under QEMU, in one lab boot (a study of the lab's flakiness, not a speed goal).
#   bench/lab-hangs.sh [RUNS]       (default 20 each)
exec "$(dirname "$0")/run-in-lab.sh" lab-hangs 6G 7200 "$@"
