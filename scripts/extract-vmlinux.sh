#!/bin/bash
# Take the uncompressed ELF vmlinux out of a bzImage (its payload, as the setup
# header's payload_offset/payload_length describe it).
#   scripts/extract-vmlinux.sh BZIMAGE OUT
set -euo pipefail
img=${1:?usage: extract-vmlinux.sh BZIMAGE OUT}
out=${2:?usage: extract-vmlinux.sh BZIMAGE OUT}
u8() { od -An -tu1 -j "$1" -N1 "$img" | tr -d ' '; }
u32() { od -An -tu4 -j "$1" -N4 "$img" | tr -d ' '; }
sects=$(u8 $((0x1f1)))
[ "$sects" = 0 ] && sects=4
off=$(($((sects + 1)) * 512 + $(u32 $((0x248)))))
len=$(u32 $((0x24c)))
magic=$(od -An -tx1 -j "$off" -N4 "$img" | tr -d ' ')
case $magic in
fd377a58) dec=(xz -dcq) ;;
28b52ffd) dec=(zstd -dcq) ;;
1f8b*) dec=(gzip -dc) ;;
*) echo "extract-vmlinux: unknown payload compression (magic $magic) in $img" >&2; exit 1 ;;
esac
tail -c +$((off + 1)) "$img" | head -c "$len" | "${dec[@]}" >"$out.tmp" 2>/dev/null || true
[ "$(head -c 4 "$out.tmp" | od -An -tx1 | tr -d ' ')" = 7f454c46 ] || {
	echo "extract-vmlinux: the payload of $img did not decompress to an ELF file" >&2
	rm -f "$out.tmp"
	exit 1
}
mv "$out.tmp" "$out"
