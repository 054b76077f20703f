#!/bin/bash
# Reboot, panic and signals: guest reboot restarts the VM (default) or exits
# with 4 (--on-reboot exit); a kernel panic exits with 8 (pvpanic); SIGTERM
# stops the guest with 128+15.
source "$(dirname "$0")/../linux-lib.sh"

boot reboot-exit --on-reboot exit --cmdline "petrel.action=reboot"
expect_status 4 "--on-reboot exit"
line '^petrel-guest: rebooting'

boot panic --cmdline "petrel.action=panic panic=-1"
expect_status 8 "guest panic"
line 'Kernel panic'

# Default --on-reboot restart: the guest boots again; stop it with SIGTERM
# once the second boot reached /init.
out=$out_dir/reboot-restart.out
: >"$out"
"$petrel" run --kernel "$KERNEL" --initramfs "$INITRAMFS" --serial "file=$out" \
	--cmdline "petrel.action=reboot" </dev/null 2>"$out_dir/reboot-restart.err" &
pid=$!
if ! wait_line "$out" '^petrel-guest: init started' 2 120; then
	kill -9 $pid
	fail "the guest did not boot a second time after its reboot"
fi
kill -TERM $pid
status=0
wait $pid || status=$?
name=reboot-restart
expect_status 143 "SIGTERM"
echo "reboot-restart: $(grep -ac '^petrel-guest: init started' "$out") boots, then SIGTERM -> 143"
echo "PASS"
