#!/bin/bash
# bench/net: TCP throughput guest->host and host->guest of the same Linux guest
# under petrel and under QEMU (virtio-net-pci on a TAP, vhost off and on);
# inside the lab on hosts without VT-x/AMD-V (elsewhere it needs root).
#   bench/net.sh [--size MIB] [--only petrel,off,on] [RUNS]
exec "$(dirname "$0")/run-in-lab.sh" net 3G 1200 "$@"
