#!/bin/bash
# Host memory errors: a page of guest RAM that a guest user process holds is
# poisoned on the lab's host (its kernel's memory-failure handling, through
# /sys/devices/system/memory/hard_offline_page). petrel hears of it at once
# (action optional: the guest gets it logged on vCPU 0) and again when the
# guest touches the page (action required: a machine check on the vCPU that
# touched it). The guest kernel recovers: it kills that process with SIGBUS,
# logs the memory failure, and powers off normally (petrel exit 0).
source "$(dirname "$0")/../linux-lib.sh"

memfail=$build/tests/guest-linux/memfail
offline=/sys/devices/system/memory/hard_offline_page
[ -x "$memfail" ] || fail "$memfail is missing (the plain build makes it)"
[ -e "$offline" ] || fail "this kernel cannot poison a page ($offline: CONFIG_MEMORY_FAILURE)"
"$petrel" info | grep '^machine checks:'

# The test initramfs with /bin/memfail and a /test.sh that runs it appended
# (the kernel unpacks both archives).
tree=$(mktemp -d)
trap 'rm -rf "$tree"' EXIT
mkdir -p "$tree/bin"
cp "$memfail" "$tree/bin/memfail"
cat >"$tree/test.sh" <<'EOF'
#!/bin/sh
/bin/memfail 120
echo "petrel-guest: memfail exit $?"
echo "petrel-guest: still running after the memory error"
dmesg | grep -aiE 'mce|machine check|memory failure|hardware error|hwpoison|panic|memfail' |
	sed 's/^/petrel-guest: kmsg /'
EOF
chmod 755 "$tree/bin/memfail" "$tree/test.sh"
initrd=$out_dir/memfail-initramfs.cpio.gz
{
	cat "$INITRAMFS"
	(cd "$tree" && find . | cpio -o -H newc --quiet | gzip -1)
} >"$initrd"

name=memory-failure
out=$out_dir/$name.out
err=$out_dir/$name.err
: >"$out"
mem_mib=512
"$petrel" run --kernel "$KERNEL" --initramfs "$initrd" --memory ${mem_mib}M \
	--serial "file=$out" --cmdline "petrel.action=script" </dev/null 2>"$err" &
pid=$!
if ! wait_line "$out" '^petrel-guest: memfail pid [0-9]+ page gpa 0x[0-9a-f]+' 1 600; then
	kill -9 $pid
	tail -n 30 "$out" "$err"
	fail "the guest's memfail did not report its page"
fi
gpa=$(tr -d '\r' <"$out" | sed -n 's/^petrel-guest: memfail pid [0-9]* page gpa \(0x[0-9a-f]*\).*/\1/p' | head -n 1)

# petrel's guest RAM below the PCI hole (all of it, at this size) is the
# anonymous mapping of exactly that size advised for huge pages (hg) and kept
# out of core dumps (dd); the guest page is at the same offset in it.
ram=$(awk -v want=$((mem_mib * 1024)) '
	/^[0-9a-f]+-[0-9a-f]+ / { range = $1; inode = $5; path = $6 }
	/^Size:/ { size = $2 }
	/^VmFlags:/ && size == want && inode == 0 && path == "" && / dd/ && / hg/ { split(range, r, "-"); print r[1] }
' "/proc/$pid/smaps" 2>/dev/null || true)
[ -n "$ram" ] && [ "$(echo "$ram" | wc -l)" = 1 ] || {
	kill -0 $pid 2>/dev/null || echo "petrel has exited"
	echo "petrel's stderr:"
	sed 's/^/      /' "$err"
	tail -n 30 "$out"
	kill -9 $pid 2>/dev/null || true
	fail "cannot tell petrel's guest RAM mapping in /proc/$pid/smaps ('$ram')"
}
hva=$((16#$ram + gpa))
# The host frame behind it (root sees frame numbers in pagemap).
entry=$(dd if="/proc/$pid/pagemap" bs=8 skip=$((hva / 4096)) count=1 2>/dev/null | od -An -tx8 | tr -d ' ')
[ -n "$entry" ] && [ $(((16#$entry >> 63) & 1)) = 1 ] || {
	kill -9 $pid
	fail "guest page $gpa (host address $(printf '0x%x' $hva)) is not present in petrel (pagemap '$entry')"
}
pfn=$((16#$entry & ((1 << 55) - 1)))
printf 'guest page %s: petrel host address 0x%x, host frame 0x%x: poisoning it\n' "$gpa" $hva $pfn
echo $((pfn * 4096)) >"$offline" || {
	kill -9 $pid
	fail "the host kernel refused to poison frame $(printf '0x%x' $pfn)"
}
dmesg | grep -aiE 'memory failure' | tail -n 3 | sed 's/^/  lab kernel: /'

if ! wait_pid $pid 180; then
	kill -9 $pid
	tail -n 30 "$out" "$err"
	fail "the guest did not power off after the memory error"
fi
status=0
wait $pid || status=$?
tr -d '\r' <"$out" >"$out.txt"
mv "$out.txt" "$out"
sed 's/^/  stderr: /' "$err"
grep -a '^petrel-guest: \(memfail\|still\|kmsg\|script\)' "$out" | sed 's/^/  /'
expect_status 0 "the guest goes on after its memory error and powers off"
line '^petrel-guest: memfail exit 135$'
line '^petrel-guest: still running after the memory error'
line '^petrel-guest: kmsg .*[Mm]emory failure: 0x[0-9a-f]+'
# AMD's record: valid, uncorrected, enabled, address and misc valid, poison; not overflowed
line '^petrel-guest: kmsg .*Machine Check Exception: 7 Bank 9: bc00080000000000'
grep -q "host memory error in guest RAM at $gpa, before any use: reported to the guest" "$err" ||
	fail "petrel did not report the action-optional error for $gpa"
grep -q "host memory error in guest RAM at $gpa, touched by vCPU [0-9]: machine check injected" "$err" ||
	fail "petrel did not inject an action-required machine check for $gpa"
if grep -aqE 'Kernel panic|Fatal machine check' "$out"; then fail "the guest panicked"; fi
echo "PASS"
