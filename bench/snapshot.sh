#!/bin/bash
# bench/snapshot: snapshot and restore of a running Linux guest (512 MiB and
# 4 GiB), petrel against QEMU's migration to a file, in one run.
#   bench/snapshot.sh [RUNS]       (default 3 each)
exec "$(dirname "$0")/run-in-lab.sh" snapshot 11G 5400 "$@"
