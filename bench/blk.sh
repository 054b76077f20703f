#!/bin/bash
# bench/blk: disk MB/s and IOPS of the same Linux guest under petrel and under
# QEMU (virtio-blk-pci, aio=threads and aio=io_uring), and of the host doing the
# same I/O on the image directly; inside the lab on hosts without VT-x/AMD-V.
#   bench/blk.sh [--seconds S] [--seq-size SIZE] [--image-size SIZE] [--only LIST]
#                [--pin CPUS] [RUNS]      (see bench/blk.py)
exec "$(dirname "$0")/run-in-lab.sh" blk 3G 1500 "$@"
