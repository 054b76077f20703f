#!/bin/bash
# The uncompressed vmlinux (taken out of Debian's bzImage) boots through its
# PVH entry note, without the decompressor.
source "$(dirname "$0")/../linux-lib.sh"

vmlinux=$(mktemp /tmp/petrel-vmlinux.XXXXXX)  # tmpfs: not the 9p scratch
"$root/scripts/extract-vmlinux.sh" "$KERNEL" "$vmlinux"
KERNEL=$vmlinux
boot pvh --cpus 2
expect_status 0 "poweroff"
line '^petrel-guest: cpus 2$'
line "^petrel-guest: kernel $KVER"
echo "PASS"
