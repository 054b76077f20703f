#!/usr/bin/env python3
# Write the seed corpora of the device and loader targets (fuzz_pci,
# fuzz_legacy_dev, fuzz_loaders) in tests/fuzz/corpus/<target>/: register
# sequences a driver writes (a virtio device brought to DRIVER_OK and used,
# Linux's probes of the UART, RTC and i8042, ACPI power-off), a minimal
# bzImage and ELF kernels with a PVH note. The input formats are the
# harnesses' (see the comment at the top of each fuzz_*.c).
import hashlib
import os
import struct

HERE = os.path.dirname(os.path.abspath(__file__))


def write(target, data):
    d = os.path.join(HERE, "corpus", target)
    os.makedirs(d, exist_ok=True)
    name = "seed-" + hashlib.sha1(data).hexdigest()[:16]
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


# ---- fuzz_pci: a platform byte, then steps [op | flags << 4, device, args] ----
BLK, RNG, NET, RNG2, RNG3 = range(5)


def op(kind, dev, fl=0, args=b""):
    return bytes([kind | fl << 4, dev]) + args


def cfg_rd(dev, reg, fl=2):  # fl bits 0-1: size 1, 2, 4
    return op(0, dev, fl, struct.pack("<H", reg))


def cfg_wr(dev, reg, val, fl=2):
    return op(1, dev, fl, struct.pack("<HI", reg, val))


def bar_rd(dev, off, fl=0):
    return op(3, dev, fl, struct.pack("<H", off))


def bar_wr(dev, off, val, fl=2):  # fl & 4: one value byte
    return op(4, dev, fl, struct.pack("<H", off) + struct.pack("<Q", val))


def place(dev, idx, fl=0):
    return op(5, dev, fl, bytes([idx]))


def cc(dev, reg_index, val):
    return op(6, dev, 8, bytes([reg_index]) + struct.pack("<I", val))


def ram(addr, data):
    return op(8, 0, 0, struct.pack("<IB", addr, len(data)) + data)


def io_turn():
    return op(9, 0)


def window(dev, off, length, write=False, val=0, size_fl=2):
    return op(10, dev, size_fl | (8 if write else 0), bytes([length]) + struct.pack("<II", off, val))


def msix_entry(dev, vec, addr_low_bits, data, masked=False):
    return op(11, dev, 1 if masked else 0, bytes([vec]) + struct.pack("<IH", addr_low_bits, data))


def msix_ctrl(dev, enable, fmask=False):
    return op(12, dev, (2 if enable else 0) | (1 if fmask else 0), b"\x00")


def link(up):
    return op(13, 0, 4 if up else 0)


def resize(pages):
    return op(13, 0, 1, bytes([pages - 1]))


def packet(data):
    return op(13, 0, 2, bytes([len(data)]) + data)


def doorbell(dev, q):
    return op(14, dev, 0, bytes([q]))


def bring_up(dev, msix=True, event_idx=False, idx=0):
    return op(15, dev, (1 if msix else 0) | (2 if event_idx else 0), bytes([idx]))


def ring_base(dev, q):
    return 0x10000 + (dev * 4 + q) * 0x8000


def desc(addr, length, flags, nxt):
    return struct.pack("<QIHH", addr, length, flags, nxt)


NEXT, WRITE = 1, 2


def avail(dev, q, n):
    """The driver's ring holds n chains, every one of them at descriptor 0."""
    return ram(ring_base(dev, q) + 0x2000, struct.pack("<HH", 0, n) + bytes(32))


def blk_request(typ, sector, n=1, data_len=512):
    base = ring_base(BLK, 0)
    chain = desc(0xC0000, 16, NEXT, 1)
    if data_len:
        chain += desc(0xC1000, data_len, NEXT | (WRITE if typ == 0 else 0), 2)
    chain += desc(0xC2000, 1, WRITE, 0)
    if not data_len:
        chain = desc(0xC0000, 16, NEXT, 1) + desc(0xC2000, 1, WRITE, 0)
    return (ram(0xC0000, struct.pack("<IIQ", typ, 0, sector)) + ram(base, chain) +
            avail(BLK, 0, n) + doorbell(BLK, 0) + io_turn() + io_turn())


def rng_request(dev=RNG, n=1):
    return (ram(ring_base(dev, 0), desc(0xC4000, 64, WRITE, 0)) + avail(dev, 0, n) +
            doorbell(dev, 0) + io_turn())


def pci(platform, *steps):
    write("fuzz_pci", bytes([platform]) + b"".join(steps))


for d in range(5):
    pci(0, bring_up(d, idx=4 * d))
pci(0, bring_up(BLK, msix=False), blk_request(0, 0), bar_rd(BLK, 0x1000))
pci(0, bring_up(BLK, event_idx=True), blk_request(1, 3), blk_request(0, 3, 2),
    blk_request(4, 0, 3, 0), blk_request(8, 0, 4, 20), bar_rd(BLK, 0x14))
pci(8, bring_up(BLK), blk_request(1, 1), bar_rd(BLK, 0x14))
pci(0, bring_up(RNG), rng_request(), bring_up(RNG2, idx=8), rng_request(RNG2))
pci(1, bring_up(RNG), rng_request(), msix_entry(RNG, 1, 0xfee01000, 0x41, masked=True),
    rng_request(n=2), msix_entry(RNG, 1, 0xfee01000, 0x41), msix_ctrl(RNG, True, fmask=True),
    msix_ctrl(RNG, True), bar_rd(RNG, 0x6000, 3))
pci(0, bring_up(NET), ram(ring_base(NET, 0), desc(0xC8000, 2048, WRITE, 0)),
    avail(NET, 0, 1), doorbell(NET, 0), packet(bytes(12) + b"\xff" * 6 + b"\x52" * 6 +
                                                  b"\x08\x00" + bytes(46)),
    io_turn(), link(False), link(True),
    ram(ring_base(NET, 1), desc(0xCA000, 62, 0, 0)), ram(0xCA000, bytes(12) + b"\x11" * 50),
    avail(NET, 1, 1), doorbell(NET, 1), io_turn())
# a driver that does it all by hand: probe, size BAR 0, enable, negotiate, queue, DRIVER_OK
pci(0, cfg_rd(RNG, 0x00), cfg_rd(RNG, 0x08), cfg_rd(RNG, 0x34, 0), cfg_rd(RNG, 0x40, 2),
    cfg_rd(RNG, 0x44, 2), cfg_rd(RNG, 0x50, 2), cfg_wr(RNG, 0x10, 0xffffffff),
    cfg_rd(RNG, 0x10), cfg_wr(RNG, 0x14, 0xffffffff), cfg_rd(RNG, 0x14),
    cfg_wr(RNG, 0x10, 0xc0100000), cfg_wr(RNG, 0x14, 0), cfg_wr(RNG, 0x04, 0x6, 1),
    cc(RNG, 6, 1), cc(RNG, 6, 3), cc(RNG, 1, 0), cc(RNG, 0, 1), cc(RNG, 1, 0),
    cc(RNG, 2, 1), cc(RNG, 3, 1), cc(RNG, 6, 0xb), bar_rd(RNG, 0x14),
    cc(RNG, 8, 0), bar_rd(RNG, 0x18, 1), cc(RNG, 9, 64), cc(RNG, 13, 0x20000),
    cc(RNG, 15, 0x22000), cc(RNG, 17, 0x23000), cc(RNG, 11, 1), cc(RNG, 6, 0xf),
    bar_wr(RNG, 0x3000, 0, 1), io_turn(), bar_rd(RNG, 0x1000))
# a device's BAR moved, decoding switched, overlapping another, with live queues
pci(0, bring_up(RNG), bring_up(RNG2, idx=2), place(RNG, 2), place(RNG2, 1), place(RNG, 2),
    cfg_wr(RNG2, 0x04, 0, 1), place(RNG, 1), cfg_wr(RNG, 0x04, 0x2, 1), doorbell(RNG, 0),
    cfg_wr(RNG, 0x04, 0x6, 1), io_turn(), place(RNG, 0x40, 1))
pci(2, bring_up(RNG), place(RNG, 3), bar_wr(RNG, 0x3000, 0, 1), io_turn(), rng_request())
pci(4, bring_up(BLK), bring_up(NET, idx=8), link(False), bar_rd(NET, 0x1000))
# configuration changes while bus mastering is off: the messages wait
pci(0, bring_up(NET), cfg_wr(NET, 0x04, 0x2, 1), link(False), link(True),
    cfg_wr(NET, 0x04, 0x6, 1), bring_up(BLK, idx=8), cfg_wr(BLK, 0x04, 0x2, 1), resize(8),
    cfg_wr(BLK, 0x04, 0x6, 1))
pci(1, bring_up(NET), cfg_wr(NET, 0x04, 0x2, 1), link(False), cfg_wr(NET, 0x04, 0x6, 1))
# an INTx raised before MSI-X is enabled
pci(0, bring_up(NET, msix=False), link(False), msix_ctrl(NET, True), link(True),
    bar_rd(NET, 0x1000), msix_ctrl(NET, False), link(False))
# resets: status 0 with everything live, then again
pci(0, bring_up(BLK), blk_request(0, 2), cc(BLK, 6, 0), bar_rd(BLK, 0x14, 0), bring_up(BLK),
    blk_request(0, 2, 2), cc(BLK, 6, 0x0b), cc(BLK, 6, 0x4f))
pci(0, bring_up(BLK), resize(32), resize(1), blk_request(0, 9))
pci(2, bring_up(RNG), rng_request(), cc(RNG, 6, 0), bring_up(RNG), rng_request(n=2))
# the PCI_CFG window into BAR 0
pci(0, window(RNG, 0x12, 2), window(RNG, 0x14, 1, True, 1), window(RNG, 0x14, 1),
    window(RNG, 0x04, 4), window(RNG, 0x4000, 4, True, 0xfee00000),
    window(RNG, 0x14, 1, True, 0))
# mechanism #1
pci(0, op(2, RNG, 8, b"\x00"), op(2, RNG, 2, b"\x00"), op(2, RNG, 8, b"\x04"),
    op(2, RNG, 1, b"\x00" + struct.pack("<I", 0x7)), op(2, RNG, 0, b"\x02"),
    op(2, RNG, 4, struct.pack("<I", 0x12345678)))
# the bridge and functions that are not there
pci(0, op(0, 0, 8 | 2, b"\x00\x00\x00"), op(0, 0, 8 | 2, b"\x31\x00\x00"),
    op(1, 0, 8 | 2, b"\x00\x04\x00\x07\x00\x00\x00"), op(0, 0, 8, b"\x08\x00\x00"))

# ---- fuzz_legacy_dev: steps [op, port index, args] ----
PORTS = [0x3f7, 0x3f8, 0x3f9, 0x3fa, 0x3fb, 0x3fc, 0x3fd, 0x3fe, 0x3ff, 0x400,
         0x6f, 0x70, 0x71, 0x72, 0x60, 0x61, 0x64, 0x65, 0x5ff, 0x600,
         0x601, 0x602, 0x603, 0x604, 0x605, 0x606, 0xcf8, 0xcf9, 0xcfa]


def pr(port, size=1):
    return bytes([{1: 0, 2: 1, 4: 2}[size] << 4, PORTS.index(port)])


def pw(port, val, size=1):
    return bytes([2 | {1: 0, 2: 1, 4: 2}[size] << 4 | 0x80, PORTS.index(port)]) + \
        struct.pack("<I", val)


def typed(data):
    return bytes([4, 0, len(data)]) + data


def event(n):
    return bytes([5 | n << 4, 0])


def clock(ms, back=False):
    return bytes([6 | (0x80 if back else 0), 0]) + struct.pack("<I", ms)


def burst(port, vals, write=True):
    return bytes([7 | (0x80 if write else 0), PORTS.index(port), len(vals)]) + bytes(vals)


def legacy(*steps):
    write("fuzz_legacy_dev", b"".join(steps))


# Linux's 8250 probe and console set-up, then output, loopback, FIFO overrun
legacy(pw(0x3f9, 0), pw(0x3fb, 0x80), pw(0x3f8, 1), pw(0x3f9, 0), pw(0x3fb, 0x03),
       pr(0x3fb), pw(0x3fc, 0x10), pr(0x3fe), pw(0x3fc, 0x1f), pr(0x3fe), pw(0x3fa, 0xc7),
       pr(0x3fa), pw(0x3fc, 0x0b), pw(0x3f9, 0x0f), pr(0x3fa), pr(0x3fd),
       burst(0x3f8, list(b"Linux version\n")), pr(0x3fa), pr(0x3fd))
legacy(pw(0x3fc, 0x1b), pw(0x3f9, 0x05), burst(0x3f8, list(range(20))), pr(0x3fd), pr(0x3fa),
       burst(0x3f8, [0] * 20, write=False), pr(0x3fe), pw(0x3fa, 0x02), pw(0x3fc, 0x08),
       typed(b"root\n"), pr(0x3fa), pr(0x3f8), pr(0x3f8, 2), pr(0x3fd), event(2))
legacy(pw(0x3fc, 0x08), pw(0x3f9, 0x03), typed(b"x" * 20), pr(0x3fd), pr(0x3fa),
       burst(0x3f8, [0] * 18, write=False), pw(0x3fb, 0x83), pr(0x3f8), pr(0x3f9),
       pw(0x3fb, 0x03), pw(0x3ff, 0x5a), pr(0x3ff), event(3))
# the RTC: read the clock, set it (SET held), binary and 12-hour modes, CMOS bytes
legacy(*[pw(0x70, r) + pr(0x71) for r in (0, 2, 4, 6, 7, 8, 9, 0x32, 0x0a, 0x0b, 0x0c, 0x0d)])
legacy(pw(0x70, 0x0b), pw(0x71, 0x82), pw(0x70, 0), pw(0x71, 0x30), pw(0x70, 2),
       pw(0x71, 0x15), pw(0x70, 4), pw(0x71, 0x23), pw(0x70, 7), pw(0x71, 0x31),
       pw(0x70, 8), pw(0x71, 0x12), pw(0x70, 9), pw(0x71, 0x99), pw(0x70, 0x32),
       pw(0x71, 0x20), pw(0x70, 0x0b), pw(0x71, 0x02), pw(0x70, 9), pr(0x71),
       clock(86400000), pw(0x70, 7), pr(0x71), clock(4000000000, back=True), pw(0x70, 0),
       pr(0x71))
legacy(pw(0x70, 0x0b), pw(0x71, 0x04), pw(0x70, 4), pr(0x71), pw(0x70, 0x0b), pw(0x71, 0x00),
       pw(0x70, 4), pr(0x71), pw(0x71, 0x92), pr(0x71), pw(0x70, 0x8e), pw(0x71, 0xab),
       pr(0x71), pw(0x70, 0x34), pr(0x71), pw(0x70, 0x5b), pr(0x71), pr(0x70), event(3))
# the i8042: Linux's probe, the keyboard's commands, the aux port, Ctrl-Alt-Del, reset
legacy(pr(0x64), pw(0x64, 0xaa), pr(0x64), pr(0x60), pw(0x64, 0x20), pr(0x60),
       pw(0x64, 0x60), pw(0x60, 0x47), pw(0x64, 0xa9), pr(0x60), pw(0x64, 0xab), pr(0x60),
       pw(0x64, 0xd4), pw(0x60, 0xf2), pr(0x64), pr(0x60), pw(0x60, 0xff), pr(0x60), pr(0x60),
       pw(0x60, 0xf2), pr(0x60), pr(0x60), pr(0x60), pw(0x60, 0xed), pw(0x60, 0x02),
       pw(0x60, 0xf0), pw(0x60, 0x00), burst(0x60, [0] * 4, write=False), event(0),
       burst(0x60, [0] * 9, write=False))
legacy(pw(0x64, 0xad), event(0), pw(0x64, 0xae), pw(0x60, 0xf5), event(0), pw(0x60, 0xf4),
       burst(0x60, [0xee] * 17), event(0), pw(0x64, 0xd2), pw(0x60, 0x41), pw(0x64, 0xd3),
       pw(0x60, 0x42), pw(0x64, 0x60), pw(0x60, 0x03), pr(0x60), pr(0x60), pw(0x64, 0xd0),
       pr(0x60), pw(0x64, 0xd1), pw(0x60, 0x01), pw(0x64, 0xd1), pw(0x60, 0x00),
       pw(0x64, 0xfe), pw(0x64, 0xff), event(3))
# ACPI: the power button through its enable, status cleared, S5, the reset register
legacy(pr(0x600, 2), pw(0x602, 0x100, 2), event(1), pr(0x600, 2), pr(0x600, 4),
       pw(0x600, 0x100, 2), pr(0x600, 4), pw(0x601, 0x01), event(1), pw(0x603, 0),
       pr(0x604, 2), pw(0x604, 0x1401, 2), pw(0x605, 0x34), pw(0x604, 0x3401, 2),
       pr(0x604), pr(0x605), pr(0xcf9), pw(0xcf9, 0x02), pw(0xcf9, 0x06), pr(0xcf9))
legacy(pw(0x600, 0xffffffff, 4), event(1), pw(0x602, 0xffff, 2), pw(0x604, 0, 1),
       pw(0x604, 0x0001, 2), pw(0x600, 0xffff, 2), event(3), pr(0x603), pr(0x606), pr(0x5ff))

# ---- fuzz_loaders: [flags, initramfs size, command line length, kernel] ----
MB = 1 << 20


def loaders(flags, isize, cl_len, img):
    write("fuzz_loaders", bytes([flags]) + struct.pack("<II", isize, cl_len) + img)


def bzimage(version=0x020f, relocatable=1, pref=0x1000000, align=0x200000, init_size=0x100000,
            syssize_pages=1, setup_sects=4, cmdline_size=2047, xlf=0x1, hdr_len=0x66):
    img = bytearray((setup_sects + 1) * 512 + syssize_pages * 4096)
    img[0x1f1] = setup_sects
    struct.pack_into("<I", img, 0x1f4, syssize_pages * 4096 // 16)
    struct.pack_into("<H", img, 0x1fe, 0xaa55)
    img[0x200], img[0x201] = 0xeb, hdr_len
    struct.pack_into("<IH", img, 0x202, 0x53726448, version)
    img[0x211] = 0x01  # LOADED_HIGH
    struct.pack_into("<I", img, 0x22c, 0x37ffffff)
    struct.pack_into("<I", img, 0x230, align)
    img[0x234] = relocatable
    struct.pack_into("<H", img, 0x236, xlf)
    struct.pack_into("<I", img, 0x238, cmdline_size)
    struct.pack_into("<Q", img, 0x258, pref)
    struct.pack_into("<I", img, 0x260, init_size)
    k = (setup_sects + 1) * 512
    img[k:k + 4] = b"\x90\x90\xeb\xfe"
    return bytes(img)


def pvh_note(entry, descsz=4):
    desc = struct.pack("<I", entry) + bytes(descsz - 4)
    return struct.pack("<III", 4, descsz, 18) + b"Xen\0" + desc


def elf(cls=64, segs=((0x100000, 0x100, 0x1000),), entry=0x100000, note_first=False):
    """An ELF kernel: PT_LOAD segments (paddr, filesz, memsz) and a PT_NOTE with PVH."""
    note = pvh_note(entry)
    if cls == 64:
        ehsz, phsz = 64, 56
    else:
        ehsz, phsz = 52, 32
    nph = len(segs) + 1
    data_off = ehsz + nph * phsz
    note_off = data_off
    off = note_off + len(note)
    phdrs = []
    body = bytearray(note)
    loads = []
    for paddr, filesz, memsz in segs:
        loads.append((1, off, paddr, filesz, memsz))
        body += bytes([0xf4]) * filesz
        off += filesz
    notes = [(4, note_off, 0, len(note), len(note))]
    for t, o, pa, fs, ms in (notes + loads if note_first else loads + notes):
        if cls == 64:
            phdrs.append(struct.pack("<IIQQQQQQ", t, 0, o, pa, pa, fs, ms, 4))
        else:
            phdrs.append(struct.pack("<IIIIIIII", t, o, pa, pa, fs, ms, 0, 4))
    ident = b"\x7fELF" + bytes([2 if cls == 64 else 1, 1, 1]) + bytes(9)
    if cls == 64:
        eh = ident + struct.pack("<HHIQQQIHHHHHH", 2, 62, 1, entry, ehsz, 0, 0, ehsz, phsz,
                                 nph, 64, 0, 0)
    else:
        eh = ident + struct.pack("<HHIIIIIHHHHHH", 2, 3, 1, entry, ehsz, 0, 0, ehsz, phsz,
                                 nph, 40, 0, 0)
    return eh + b"".join(phdrs) + bytes(body)


loaders(3, 0, 13, bzimage())
loaders(3 | 4, 1 << 20, 100, bzimage())
loaders(1 | 4, 3 << 20, 0, bzimage(init_size=0x400000))
loaders(0, 0, 0, bzimage())  # 2 MiB: no room
loaders(2 | 8, 0, 0, bzimage(relocatable=0, pref=0x200000))
loaders(3, 0, 5000, bzimage(version=0x020c, cmdline_size=255))
loaders(3 | 4, 40 << 20, 10, bzimage(align=0x1000000))
loaders(3, 0, 1, bzimage(version=0x0205))
loaders(3, 0, 1, bzimage(hdr_len=0x30))
loaders(3, 0, 13, elf())
loaders(3 | 4, 1 << 20, 20, elf(note_first=True))
loaders(1, 0, 0, elf(cls=32, segs=((0x100000, 0x80, 0x80), (0x200000, 0x40, 0x10000)),
                     entry=0x200010))
loaders(0 | 4, 1 << 20, 0, elf(segs=((0x100000, 0x100, 0x180000),)))
loaders(3, 0, 0x10000, elf(entry=0x300000))
