#!/bin/bash
# Memory sizes from the smallest this kernel can unpack in to 8 GiB (RAM above
# 4 GiB past the PCI hole) boot, and the guest sees them. Debian's kernel needs
# 64 MiB from its load address to decompress (init_size): with 64 MiB petrel
# refuses with a clear error (QEMU hangs instead).
source "$(dirname "$0")/../linux-lib.sh"

boot mem-64m --memory 64M
expect_status 1 "a kernel that cannot unpack in 64 MiB"
grep -q 'give a larger --memory' "$out_dir/mem-64m.err" || fail "no clear error for 64M"

boot mem-96m --memory 96M --cmdline "panic=-1"
expect_status 0 "poweroff"
mem=$(sed -n 's/^petrel-guest: memory \([0-9]*\) kB.*/\1/p' "$out")
[ "$mem" -gt 20000 ] && [ "$mem" -le 98304 ] || fail "96M guest reports $mem kB"

for m in 3584:3670016 6144:6291456; do
	boot "mem-${m%%:*}m" --memory "${m%%:*}M"
	expect_status 0 "poweroff"
	mem=$(sed -n 's/^petrel-guest: memory \([0-9]*\) kB.*/\1/p' "$out")
	[ "$mem" -gt $((${m#*:} * 9 / 10)) ] && [ "$mem" -le "${m#*:}" ] ||
		fail "${m%%:*}M guest reports $mem kB"
done

boot mem-8g --memory 8G --cpus 2
expect_status 0 "poweroff"
line 'BIOS-e820: \[mem 0x0000000100000000-0x000000023fffffff\] usable'
mem=$(sed -n 's/^petrel-guest: memory \([0-9]*\) kB.*/\1/p' "$out")
[ "$mem" -gt 7500000 ] && [ "$mem" -le 8388608 ] || fail "8G guest reports $mem kB"
echo "PASS"
