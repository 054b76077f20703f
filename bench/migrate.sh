#!/bin/bash
# bench/migrate: live migration over TCP of a running 1 GiB, 2-vCPU Linux guest,
# idle and dirtying memory at two rates, petrel against QEMU in one run: total
# time, bytes sent, rounds, downtime as the VMM reports it and as the guest
# sees it (the longest gap in its 5 ms heartbeat).
#   bench/migrate.sh [--downtime MS] [--rates LIST] [RUNS]   (see bench/migrate.py)
exec "$(dirname "$0")/run-in-lab.sh" migrate 6G 5400 "$@"
