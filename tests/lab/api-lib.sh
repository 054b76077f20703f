# Shared by the lab cases that drive petrel's API (sourced after linux-lib.sh):
# requests over a UNIX socket with curl, waits on the console. The case sets
# $work (a tmpfs directory), $out, $out_dir and $name.
# api SOCKET METHOD PATH [JSON]: one request; sets $code and $body; every
# request and answer goes to $work/api.log (shown when the case fails)
api() {
	local args=(-sS --max-time "${API_MAX_TIME:-30}" --unix-socket "$1" -X "$2" -o "$work/body" -w '%{http_code}')
	[ $# -ge 4 ] && args+=(-H 'Content-Type: application/json' -H 'Expect:' --data-binary "$4")
	rm -f "$work/body"
	code=$(curl "${args[@]}" "http://localhost$3" 2>"$work/curl.err") || code="curl-failed($(cat "$work/curl.err"))"
	body=$(cat "$work/body" 2>/dev/null || true)
	echo "$2 $3 ${4:-} -> $code $body" >>"$work/api.log"
}

# call SOCKET METHOD PATH JSON|"" CODE: a request that must answer CODE
call() {
	if [ -n "$4" ]; then api "$1" "$2" "$3" "$4"; else api "$1" "$2" "$3"; fi
	[ "$code" = "$5" ] || api_fail "$2 $3 ${4:-}: answered $code '$body', expected $5"
}

api_fail() {
	echo "requests so far:"
	sed 's/^/  /' "$work/api.log" 2>/dev/null || true
	echo "console, last lines:"
	tail -n 30 "$out" 2>/dev/null | sed 's/^/  /'
	echo "petrel's stderr:"
	sed 's/^/  /' "$out_dir/$name.err" 2>/dev/null || true
	fail "$*"
}

# state_is SOCKET STATE: Firecracker's GET / names this state
state_is() {
	call "$1" GET / "" 200
	grep -q "\"state\": *\"$2\"" <<<"$body" || api_fail "GET / says '$body', expected state $2"
}

# wait_sock PATH PID: the API socket exists (petrel PID still running)
wait_sock() {
	local end=$((SECONDS + 30))
	while [ $SECONDS -lt $end ] && [ ! -S "$1" ]; do
		kill -0 "$2" 2>/dev/null || api_fail "petrel ended before making its socket $1"
		sleep 0.1
	done
	[ -S "$1" ] || api_fail "no API socket $1 after 30s"
}

# guest_line REGEX TIMEOUT [COUNT]: the console shows it (COUNT lines of it)
guest_line() {
	wait_line "$out" "$1" "${3:-1}" "$2" || api_fail "no console line matching '$1' within $2s"
}

# seen REGEX: the console has a line matching it (its line ends without \r)
seen() { tr -d '\r' <"$out" | grep -aE "$1" >/dev/null; }

# rounds: how many rounds the guest has reported
rounds() { count_lines "$out" '^petrel-guest: round '; }

