#!/bin/bash
# Print the module files needed to load the named kernel modules, dependencies
# first, one path per line (read from each module's .modinfo depends= list).
#   scripts/kmod-closure.sh MODULES_DIR NAME...
set -euo pipefail
dir=${1:?usage: kmod-closure.sh MODULES_DIR NAME...}
shift
declare -A seen=()
declare -A path=()
while IFS= read -r f; do
	b=${f##*/}
	b=${b%%.ko*}
	path[${b//-/_}]=$f
done < <(find "$dir" -name '*.ko*')

visit() {
	local m=${1//-/_} f deps d
	[ -n "${seen[$m]:-}" ] && return 0
	seen[$m]=1
	f=${path[$m]:-}
	if [ -z "$f" ]; then
		# built into the kernel, or not shipped
		grep -q "/${1}.ko\$\|/${m}.ko\$" "$dir/modules.builtin" 2>/dev/null && return 0
		echo "kmod-closure: no module $1 under $dir" >&2
		return 1
	fi
	case $f in
	*.xz) deps=$(xz -dc "$f" | strings -n 3 | sed -n 's/^depends=//p') ;;
	*.zst) deps=$(zstd -dqc "$f" | strings -n 3 | sed -n 's/^depends=//p') ;;
	*) deps=$(strings -n 3 "$f" | sed -n 's/^depends=//p') ;;
	esac
	for d in ${deps//,/ }; do
		visit "$d"
	done
	echo "$f"
}
for m in "$@"; do
	visit "$m"
done
