#!/bin/bash
# Bad user input: one clear line, exit 2 for usage and 1 for runtime errors.
set -u
petrel=$1 guest=$2
fail=0
check() {
	local want=$1 pattern=$2
	shift 2
	local out rc
	out=$("$@" </dev/null 2>&1)
	rc=$?
	if [ $rc -ne "$want" ] || ! grep -Eq -- "$pattern" <<<"$out"; then
		echo "FAIL: $* -> status $rc, output: $out (expected $want, /$pattern/)"
		fail=1
	elif [ "$(wc -l <<<"$out")" -gt 1 ]; then
		echo "FAIL: $* -> more than one line: $out"
		fail=1
	else
		echo "ok: $* -> $rc: $out"
	fi
}
check 2 'unknown command' "$petrel" frobnicate
check 2 'unknown option --bogus' "$petrel" run --bogus
check 2 'give --kernel' "$petrel" run
check 2 '--cpus 0: expected a number from 1 to 256' "$petrel" run --firmware "$guest" --cpus 0
check 2 '--cpus many' "$petrel" run --firmware "$guest" --cpus many
check 2 '--memory 12Q: expected a size' "$petrel" run --firmware "$guest" --memory 12Q
check 2 '--memory: more than this host has' "$petrel" run --firmware "$guest" --memory 64T
check 2 '--mode fast: expected real or long' "$petrel" run --firmware "$guest" --mode fast
check 2 '--serial tcp: expected stdio' "$petrel" run --firmware "$guest" --serial tcp
check 2 '--on-reboot maybe' "$petrel" run --firmware "$guest" --on-reboot maybe
check 2 'not both' "$petrel" run --firmware "$guest" --kernel "$guest"
check 1 '--firmware /nonexistent: No such file' "$petrel" run --firmware /nonexistent
check 1 '--kernel /nonexistent: No such file' "$petrel" run --kernel /nonexistent
check 2 "--cpus 300: expected a number from 1 to 256" "$petrel" run --firmware "$guest" --cpus 300
check 0 '^petrel [0-9]' "$petrel" --version
check 2 '--balloon size=x: expected \[size=MIB\]' "$petrel" run --firmware "$guest" --balloon size=x
check 2 '--balloon stats=86401: expected' "$petrel" run --firmware "$guest" --balloon=stats=86401
check 1 'amount_mib 512 is more than the guest.s 256 MiB' "$petrel" run --firmware "$guest" \
	--memory 256M --balloon size=512
check 2 '--seccomp bogus: expected off, log or kill' "$petrel" run --firmware "$guest" --seccomp bogus
check 2 '--seccomp strict: expected off, log or kill' "$petrel" api --api-sock /nonexistent/sock --seccomp strict
# --vsock: a guest cid below 3 or a missing key is a usage error; an existing UDS path is
# refused, never unlinked; the UDS petrel made is gone after it exits.
vsdir=$(mktemp -d)
check 2 '--vsock cid=2,uds=x: expected cid=N,uds=PATH' "$petrel" run --firmware "$guest" --vsock cid=2,uds=x
check 2 '--vsock cid=3: expected cid=N,uds=PATH' "$petrel" run --firmware "$guest" --vsock cid=3
check 2 'one vsock device at most' "$petrel" run --firmware "$guest" --vsock cid=3,uds=a --vsock cid=4,uds=b
touch "$vsdir/taken"
check 1 "vsock: $vsdir/taken exists" timeout 10 "$petrel" run --firmware "$guest" --vsock cid=3,uds="$vsdir/taken"
[ -f "$vsdir/taken" ] || { echo "FAIL: petrel removed an existing file given as --vsock uds="; fail=1; }
if ! timeout 10 "$petrel" run --firmware "$guest" --serial off --stats --vsock cid=3,uds="$vsdir/v.sock" \
	</dev/null 2>&1 | grep -q '^petrel: virtio-vsock 0: 0 connections open'; then
	echo "FAIL: --stats does not show the vsock device"
	fail=1
fi
[ ! -e "$vsdir/v.sock" ] || { echo "FAIL: petrel left its --vsock UDS behind"; fail=1; }
rm -rf "$vsdir"
check 2 '--dirty-log rings: expected bitmap or ring' "$petrel" run --firmware "$guest" --dirty-log rings
check 2 '--dirty-ring-size 96K: expected a power of two' "$petrel" run --firmware "$guest" --dirty-log ring --dirty-ring-size 96K
check 2 '--dirty-ring-size needs --dirty-log ring' "$petrel" run --firmware "$guest" --dirty-ring-size 64K
# larger than any host's ring (KVM's largest is 65536 entries, 1M); where the host has none, that is said first
check 1 '--dirty-(ring-size 2048K: this host.s KVM takes at most|log ring: this host.s KVM has no dirty ring)' "$petrel" run --firmware "$guest" --dirty-log ring --dirty-ring-size 2M
# An empty firmware file is refused, not run as zeroed memory forever.
check 1 'firmware /dev/null: the file is empty' timeout 10 "$petrel" run --firmware /dev/null
# A bzImage whose file is shorter than its syssize says: refused, both sizes named. (The
# warning of a kvm_pvm host is not the error's line.)
bzdir=$(mktemp -d)
head -c 8192 /dev/zero >"$bzdir/bz"
poke() { printf "$2" | dd of="$bzdir/bz" bs=1 seek=$(($1)) conv=notrunc status=none; }
poke 0x1f1 '\x04'                             # setup_sects: the kernel starts at 2560
poke 0x1f4 '\x00\x10\x00\x00'                 # syssize 0x1000: 65536 bytes
poke 0x1fe '\x55\xaa'
poke 0x200 '\xeb\x6a'                         # the header ends at 0x26c
poke 0x202 'HdrS'
poke 0x206 '\x0f\x02'                         # protocol 2.15
poke 0x211 '\x01'                             # LOADED_HIGH
poke 0x22c '\xff\xff\xff\x7f'                 # initrd_addr_max
poke 0x230 '\x00\x00\x20\x00'                 # kernel_alignment 2 MiB
poke 0x234 '\x01'                             # relocatable
poke 0x236 '\x01\x00'                         # XLF_KERNEL_64
poke 0x238 '\xff\x07\x00\x00'                 # cmdline_size 2047
poke 0x258 '\x00\x00\x00\x01\x00\x00\x00\x00' # pref_address 16 MiB
poke 0x260 '\x00\x00\x10\x00'                 # init_size 1 MiB
check 1 "--kernel $bzdir/bz: truncated: the protected-mode kernel has 5632 bytes, syssize says 65536" \
	bash -c 'timeout 10 "$0" run --kernel "$1" 2>&1 | grep -v "^petrel: warning: /dev/kvm is kvm_pvm"
		exit "${PIPESTATUS[0]}"' "$petrel" "$bzdir/bz"
rm -rf "$bzdir"
exit $fail
