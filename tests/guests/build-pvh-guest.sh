#!/bin/sh
# Assemble a 32-bit guest with a PVH entry note: build-pvh-guest.sh CC SRC LDSCRIPT OUT.elf
set -e
cc=$1 src=$2 lds=$3 elf=$4
obj=${elf%.elf}.o
"$cc" -m32 -c -nostdlib -fno-pic -o "$obj" "$src"
ld -m elf_i386 -nostdlib -static -T "$lds" -o "$elf" "$obj"
