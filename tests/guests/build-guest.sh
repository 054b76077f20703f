#!/bin/sh
# Assemble one test guest: build-guest.sh CC SRC OUT.bin OUT.elf LOAD_ADDR
set -e
cc=$1 src=$2 bin=$3 elf=$4 addr=$5
obj=${elf%.elf}.o
"$cc" -c -g -nostdlib -fno-pic -I "$(dirname "$src")" -o "$obj" "$src"
ld -m elf_x86_64 -nostdlib -static -Ttext="$addr" -e _start -o "$elf" "$obj"
objcopy -O binary "$elf" "$bin"
