#!/bin/bash
# virtio-balloon through Firecracker's API. A 1 GiB guest with a balloon
# (free page reporting, statistics every second, no deflate on OOM) fills
# 400 MiB of tmpfs with random data, then removes it: petrel's RSS falls by
# at least 300 MiB as the guest reports the freed pages. GET
# /balloon/statistics answers with the guest's numbers. PATCH /balloon
# amount_mib=300: the guest's MemTotal drops by about 300 MiB, the balloon's
# actual size reaches it, and petrel's RSS does not grow; amount_mib=0
# deflates it and MemTotal comes back. Ctrl-Alt-Del then powers it off.
# lab-timeout: 300
source "$(dirname "$0")/../linux-lib.sh"

work=$(mktemp -d /tmp/petrel-balloon.XXXXXX) # tmpfs inside the lab: sockets work here
pid=
cleanup() {
	[ -z "$pid" ] || { kill -9 "$pid" && wait "$pid"; } 2>/dev/null || true
	rm -rf "$work"
}
trap cleanup EXIT

source "$(dirname "$0")/../api-lib.sh"

name=balloon
out=$out_dir/$name.out
sock=$work/api.sock

# petrel's resident memory in MiB
rss() { awk '/^VmRSS:/ {print int($2 / 1024)}' "/proc/$pid/status"; }
# the guest's last memory line: "total KB free KB" -> total in MiB
guest_total() { tr -d '\r' <"$out" | grep -a '^petrel-guest: mem ' | tail -n 1 | awk '{print int($5 / 1024)}'; }
# wait_for WHAT SECS CONDITION...: poll the condition every 0.2 s
wait_for() {
	local what=$1 end=$((SECONDS + $2))
	shift 2
	until "$@"; do
		[ $SECONDS -lt $end ] || return 1
		kill -0 "$pid" 2>/dev/null || api_fail "petrel ended while waiting for $what"
		sleep 0.2
	done
}
# field NAME: a number of the last GET /balloon/statistics (empty when absent)
field() { sed -n "s/.*\"$1\": *\([0-9]*\).*/\1/p" <<<"$body"; }

: >"$out"
"$petrel" api --api-sock "$sock" </dev/null >"$out" 2>"$out_dir/$name.err" &
pid=$!
wait_sock "$sock" $pid
call "$sock" PUT /machine-config '{"vcpu_count": 2, "mem_size_mib": 1024}' 204
call "$sock" PUT /boot-source "{\"kernel_image_path\": \"$KERNEL\", \"initrd_path\": \"$INITRAMFS\",
	\"boot_args\": \"quiet petrel.action=balloon petrel.fill=400 petrel.rounds=10\"}" 204
call "$sock" PUT /balloon '{"amount_mib": 0, "deflate_on_oom": false,
	"stats_polling_interval_s": 1, "free_page_reporting": true}' 204
call "$sock" GET /balloon "" 200
grep -q '"free_page_reporting": *true' <<<"$body" || api_fail "GET /balloon says '$body'"
call "$sock" PUT /actions '{"action_type": "InstanceStart"}' 204

# ---- free page reporting: the freed 400 MiB come back to the host ----
guest_line '^petrel-guest: balloon filled' 120
guest_line '^petrel-guest: mem 3 ' 30
filled=$(rss)
echo "petrel's RSS with the guest's 400 MiB: $filled MiB"
guest_line '^petrel-guest: balloon freed' 30
reported() { [ "$(rss)" -le $((filled - 300)) ]; }
wait_for "free page reporting" 90 reported ||
	api_fail "petrel's RSS is $(rss) MiB 90s after the guest freed 400 MiB (was $filled MiB)"
echo "petrel's RSS after the guest freed them: $(rss) MiB"

# ---- statistics ----
have_stats() {
	api "$sock" GET /balloon/statistics
	[ "$code" = 200 ] && [ -n "$(field free_memory)" ] && [ -n "$(field total_memory)" ]
}
wait_for "statistics" 30 have_stats || api_fail "no statistics from the guest: $code $body"
[ "$(field total_memory)" -gt $((900 << 20)) ] || api_fail "total_memory in '$body' is not the guest's 1 GiB"
echo "statistics: $body"

# ---- inflated to 300 MiB: the guest loses it, petrel does not grow ----
total0=$(guest_total)
before=$(rss)
call "$sock" PATCH /balloon '{"amount_mib": 300}' 204
inflated() {
	api "$sock" GET /balloon/statistics
	[ "$(field actual_mib)" = 300 ] && [ "$(guest_total)" -le $((total0 - 290)) ]
}
wait_for "the balloon inflated" 60 inflated ||
	api_fail "after PATCH amount_mib=300: $body, the guest's MemTotal $(guest_total) MiB (was $total0)"
grep -q '"target_mib": *300' <<<"$body" || api_fail "target_mib is not 300: $body"
[ "$(rss)" -le $((before + 32)) ] || api_fail "petrel's RSS grew from $before to $(rss) MiB while inflating"
echo "inflated: the guest's MemTotal $total0 -> $(guest_total) MiB, petrel's RSS $before -> $(rss) MiB"

# ---- deflated ----
call "$sock" PATCH /balloon '{"amount_mib": 0}' 204
deflated() {
	api "$sock" GET /balloon/statistics
	[ "$(field actual_mib)" = 0 ] && [ "$(guest_total)" -ge $((total0 - 8)) ]
}
wait_for "the balloon deflated" 60 deflated ||
	api_fail "after PATCH amount_mib=0: $body, the guest's MemTotal $(guest_total) MiB (was $total0)"
call "$sock" PATCH /balloon/statistics '{"stats_polling_interval_s": 0}' 400

for bad in 'Kernel panic' 'BUG:' 'Oops' 'Out of memory'; do
	if tr -d '\r' <"$out" | grep -aiEq "$bad"; then
		api_fail "the console matches '$bad'"
	fi
done
call "$sock" PUT /actions '{"action_type": "SendCtrlAltDel"}' 204
wait_pid $pid 90 || api_fail "petrel still runs 90s after SendCtrlAltDel"
status=0
wait $pid || status=$?
pid=
expect_status 0 "poweroff after Ctrl-Alt-Del"
echo "PASS"
