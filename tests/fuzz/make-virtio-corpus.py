#!/usr/bin/env python3
# Write the seed corpora of the guest-facing targets (fuzz_virtq, fuzz_virtio_*)
# in tests/fuzz/corpus/<target>/: valid requests of each device, in the input
# format of tests/fuzz/fuzz_virtio.h, plus a few malformed chains and a
# changing-memory case. Files are named by content.
import hashlib
import os
import struct

HERE = os.path.dirname(os.path.abspath(__file__))

F_EVENT_IDX, F_INDIRECT, F_RACE, F_LAYOUT = 0x01, 0x02, 0x04, 0x08
D_NEXT, D_WRITE, D_INDIRECT = 1, 2, 4
# fixed layout (fuzz_virtio.c): queue 0 desc 0x0000, queue 1 desc 0x8000; buffers above
DESC = [0x0000, 0x8000]
BUF = 0xa000
STATUS = 0xb800


def hdr(flags=0, qexp=4, feat=0, race=b""):
    assert len(race) % 4 == 0
    return bytes([flags | (F_RACE if race else 0), qexp, feat, len(race) // 4]) + bytes(12)


def poke(gpa, data):
    out = b""
    while data:
        out += b"\x00" + struct.pack("<HB", gpa, len(data[:255])) + data[:255]
        gpa += 255
        data = data[255:]
    return out


def desc(q, i, addr, length, flags=0, nxt=0):
    return b"\x01" + struct.pack("<BHIIHH", q, i, addr, length, flags, nxt)


def avail(q, head):
    return b"\x02" + struct.pack("<BH", q, head)


def kick(q=0):
    return bytes([3, q])


def dev(*args):
    return b"\x04" + bytes(args)


def reset():
    return b"\x05"


def avail_idx(q, idx):
    return b"\x06" + struct.pack("<BH", q, idx)


def dev2(*args):
    return b"\x07" + bytes(args)


def write(target, data):
    d = os.path.join(HERE, "corpus", target)
    os.makedirs(d, exist_ok=True)
    name = "seed-" + hashlib.sha1(data).hexdigest()[:16]
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def with_race(data, n=32):
    """The same input with a race stream of @n inert bytes (for the fuzzer to change)."""
    return bytes([data[0] | F_RACE, data[1], data[2], n // 4]) + data[4:] + bytes(n)


def chain(q, head, bufs, indirect_at=None):
    """Descriptors head.. for [(addr, len, writable)], or one indirect table at indirect_at."""
    out = b""
    if indirect_at is not None:
        table = b""
        for k, (a, n, w) in enumerate(bufs):
            fl = (D_WRITE if w else 0) | (D_NEXT if k + 1 < len(bufs) else 0)
            table += struct.pack("<QIHH", a, n, fl, k + 1 if k + 1 < len(bufs) else 0)
        return poke(indirect_at, table) + desc(q, head, indirect_at, len(table), D_INDIRECT)
    for k, (a, n, w) in enumerate(bufs):
        fl = (D_WRITE if w else 0) | (D_NEXT if k + 1 < len(bufs) else 0)
        out += desc(q, head + k, a, n, fl, head + k + 1 if k + 1 < len(bufs) else 0)
    return out


# ---- virtio-blk ----

def blk_hdr(t, sector):
    return struct.pack("<IIQ", t, 0, sector)


def blk_req(head, t, sector, data_len=512, data_at=BUF + 0x100, writable=None, segs=None,
            indirect_at=None, status=STATUS):
    """A request at descriptors head.. (header at BUF + 16 * head)."""
    h = BUF + 16 * head
    out = poke(h, blk_hdr(t, sector))
    bufs = [(h, 16, False)]
    if segs is not None:
        seg = b"".join(struct.pack("<QII", s, n, fl) for s, n, fl in segs)
        out += poke(data_at, seg)
        bufs.append((data_at, len(seg), False))
    elif data_len:
        bufs.append((data_at, data_len, t == 0 if writable is None else writable))
    bufs.append((status + head, 1, True))
    out += chain(0, head, bufs, indirect_at)
    return out + avail(0, head)


def blk():
    T_IN, T_OUT, T_FLUSH, T_GET_ID, T_DISCARD, T_WZ = 0, 1, 4, 8, 11, 13
    all_feat = 0x1f
    write("fuzz_virtio_blk", hdr(feat=all_feat) + blk_req(0, T_OUT, 3) + kick() + dev2() +
          blk_req(3, T_IN, 3) + kick() + dev2())
    write("fuzz_virtio_blk", hdr(feat=all_feat) + blk_req(0, T_FLUSH, 0, data_len=0) + kick() +
          dev())
    write("fuzz_virtio_blk", hdr(feat=all_feat) + blk_req(0, T_GET_ID, 0, data_len=20,
                                                          writable=True) + kick())
    for t in (T_DISCARD, T_WZ):
        seed = hdr(feat=all_feat) + blk_req(0, t, 0, segs=[(0, 8, 0), (16, 8, t == T_WZ)]) + \
            kick()
        write("fuzz_virtio_blk", seed)
        write("fuzz_virtio_blk", with_race(seed))
    seed = hdr(feat=all_feat) + blk_req(0, T_OUT, 3) + blk_req(3, T_IN, 3) + kick() + dev2()
    write("fuzz_virtio_blk", with_race(seed))
    # a discard past the end, a bad flag
    write("fuzz_virtio_blk", hdr(feat=all_feat) +
          blk_req(0, T_DISCARD, 0, segs=[(126, 8, 0)]) + kick() +
          blk_req(3, T_WZ, 0, segs=[(0, 8, 2)]) + kick())
    # buffers across the two RAM regions, an indirect table, EVENT_IDX
    write("fuzz_virtio_blk", hdr(F_INDIRECT | F_EVENT_IDX, feat=all_feat) +
          blk_req(0, T_OUT, 10, data_len=1024, data_at=0xbe00, indirect_at=0xb000) + kick() +
          dev2() + blk_req(1, T_IN, 10, data_len=1024, data_at=0xbe00) + kick() + dev2())
    # several in flight, then a reset
    write("fuzz_virtio_blk", hdr(feat=1) + blk_req(0, T_IN, 0) +
          blk_req(3, T_OUT, 1, data_at=BUF + 0x400) + blk_req(6, T_IN, 2, data_at=BUF + 0x600) +
          kick() + reset() + blk_req(0, T_IN, 127) + kick() + dev())
    # read-only disk: writes and discards refused
    write("fuzz_virtio_blk", hdr(0x10, feat=all_feat) + blk_req(0, T_OUT, 0) + kick() +
          blk_req(3, T_DISCARD, 0, segs=[(0, 8, 0)]) + kick())
    # malformed: no status byte, a loop
    write("fuzz_virtio_blk", hdr(feat=all_feat) + poke(BUF, blk_hdr(T_IN, 0)) +
          desc(0, 0, BUF, 16, 0) + avail(0, 0) + kick() + reset() +
          desc(0, 0, BUF, 16, D_NEXT, 1) + desc(0, 1, BUF, 16, D_NEXT, 0) + avail(0, 0) + kick())
    # changing memory: a second vCPU rewrites the discard segment right after the
    # device's first read of it (reads: avail idx, ring entry, 3 descriptors,
    # header, segments), to a range far past the end of the image
    race = bytes(6) + bytes([0x8f, 0]) + struct.pack("<QII", 1 << 20, 8, 0)
    race += bytes(-len(race) % 4)
    write("fuzz_virtio_blk", hdr(feat=all_feat, race=race) +
          blk_req(0, T_DISCARD, 0, segs=[(0, 8, 0)]) + kick() + race)


# ---- the bare virtqueue ----

def virtq():
    bufs = [(BUF, 64, False), (BUF + 64, 64, True)]
    write("fuzz_virtq", hdr() + chain(0, 0, bufs) + avail(0, 0) + kick() + dev(1, 64, 0, 0, 0))
    write("fuzz_virtq", hdr(F_INDIRECT | F_EVENT_IDX, qexp=8) +
          chain(0, 5, bufs + [(0xbff0, 32, True)], indirect_at=0xb000) + avail(0, 5) +
          dev(0x80, 16, 0, 0, 0) + dev(2) + dev(4) + dev(5) + dev(6))
    write("fuzz_virtq", hdr(qexp=2) + chain(0, 0, bufs) + avail(0, 0) + avail(0, 0) +
          avail(0, 0) + kick() + dev(1, 0, 0, 0, 0) + dev2(0, 0, 0, 0) + dev(3) + dev(4))
    # a loop, a head out of range, avail->idx far ahead
    write("fuzz_virtq", hdr() + desc(0, 0, BUF, 8, D_NEXT, 1) + desc(0, 1, BUF, 8, D_NEXT, 0) +
          avail(0, 0) + kick() + reset() + avail(0, 99) + kick() + reset() +
          avail_idx(0, 1000) + kick())
    write("fuzz_virtq", hdr(F_LAYOUT | F_EVENT_IDX, qexp=3)[:4] +
          struct.pack("<HHH", 0x1000, 0x2000, 0x3000) + bytes(6) + chain(0, 0, bufs) +
          avail(0, 0) + kick() + dev(5) + dev(1, 1, 0, 0, 0) + dev(2))
    race = bytes([0xc1, 0, 0x50, 1, 0]) + bytes([0x83, 0, 0xff, 0xff, 0xff, 0xff]) + bytes(1)
    write("fuzz_virtq", hdr(race=race) + chain(0, 0, bufs) + avail(0, 0) + kick() + race)


# ---- virtio-net: queue 0 receives, queue 1 transmits ----

def net_tx(head, frame, at=BUF, split=False):
    data = bytes(12) + frame
    out = poke(at, data)
    if split:
        out += chain(1, head, [(at, 12, False), (at + 12, len(frame), False)])
    else:
        out += chain(1, head, [(at, len(data), False)])
    return out + avail(1, head)


def net_rx_bufs(first, n, size, at=0xc000 - 0x800):
    out = b""
    for k in range(n):
        out += desc(0, first + k, at + k * size, size, D_WRITE) + avail(0, first + k)
    return out


def packet(data):
    return dev(0) + struct.pack("<H", len(data)) + data


def net():
    frame = bytes(range(60))
    write("fuzz_virtio_net", hdr(feat=0x20) + net_tx(0, frame) + kick(1) + dev2(0))
    write("fuzz_virtio_net", hdr(feat=0x12) + net_tx(0, frame, split=True) +
          net_tx(2, bytes(1400), at=0xb800) + kick(1) + dev2(0) + dev2(1))
    # receive: small buffers without MRG_RXBUF (through the bounce buffer), then one that fits
    write("fuzz_virtio_net", hdr(feat=0x20) + net_rx_bufs(0, 2, 1526) + kick(0) +
          packet(bytes(12) + frame) + packet(bytes(12) + bytes(1600)))
    # mergeable receive buffers: a large packet across several
    write("fuzz_virtio_net", hdr(qexp=6, feat=0x01) + net_rx_bufs(0, 8, 2048, at=0x6000) +
          kick(0) + dev(0x80, 0xb8, 0x0b) + packet(bytes(12) + frame) + dev2(3))
    # a packet waiting for buffers, then a reset; a short packet; the link
    write("fuzz_virtio_net", hdr(feat=0x21) + packet(bytes(12) + frame) + net_rx_bufs(0, 1, 64) +
          kick(0) + dev2(3) + packet(bytes(4)) + dev2(2) + dev2(6) + reset() +
          net_rx_bufs(0, 4, 4096, at=0x6000) + kick(0) + dev2(3))
    # malformed: a writable transmit buffer, a readable receive buffer, EVENT_IDX and indirect
    write("fuzz_virtio_net", hdr(F_EVENT_IDX | F_INDIRECT, feat=0x01) +
          desc(1, 0, BUF, 100, D_WRITE) + avail(1, 0) + kick(1) +
          desc(0, 0, BUF, 100, 0) + avail(0, 0) + kick(0) + reset() +
          chain(0, 0, [(0x6000, 2000, True), (0x7000, 2000, True)], indirect_at=0xb000) +
          avail(0, 0) + kick(0) + packet(bytes(12) + bytes(3000)))
    # buffers that can take the largest packet: packets go straight into them
    write("fuzz_virtio_net", hdr(qexp=5, feat=0x01) + net_rx_bufs(0, 17, 4096, at=0xd000) +
          kick(0) + packet(bytes(12) + frame) + dev(0x80, 0x10, 0x27) + dev2(3))
    write("fuzz_virtio_net", hdr(feat=0x20) + desc(0, 0, 0xd000, 65600, D_WRITE) + avail(0, 0) +
          kick(0) + dev(0x80, 0, 0) + desc(0, 1, 0xd000, 65600, D_WRITE) + avail(0, 1) +
          kick(0) + packet(bytes(4)))
    race = bytes([0, 0, 0x81, 0, 0xff, 0xff]) + bytes(2)
    write("fuzz_virtio_net", hdr(feat=0x01, race=race) + net_rx_bufs(0, 2, 2048, at=0x6000) +
          kick(0) + packet(bytes(12) + frame) + net_tx(0, frame) + kick(1) + race)


# ---- virtio-net's control queue (queue 2, at fixed pages) ----
NET_CTRL_VQ, NET_GUEST_ANNOUNCE = 0x10, 0x20  # the target's header flags
CTRL = 2


def net_ctrl(head, cmd, ack_at=STATUS, at=BUF, split=False, ack_len=1):
    """A control command @cmd (class, command, data) at descriptors head.., its ack at @ack_at."""
    out = poke(at, cmd)
    if split and len(cmd) > 1:
        bufs = [(at, 1, False), (at + 1, len(cmd) - 1, False)]
    else:
        bufs = [(at, len(cmd), False)] if cmd else []
    if ack_len:
        bufs.append((ack_at, ack_len, True))
    return out + chain(CTRL, head, bufs) + avail(CTRL, head)


def net_ctrl_seeds():
    ack = bytes([3, 0])  # VIRTIO_NET_CTRL_ANNOUNCE, ANNOUNCE_ACK
    both = NET_CTRL_VQ | NET_GUEST_ANNOUNCE
    # the host asks (after a restore), the driver acknowledges
    write("fuzz_virtio_net", hdr(both, feat=0x20) + dev2(0x10) + net_ctrl(0, ack) + kick(CTRL))
    # the same, the command split over two buffers and indirect, EVENT_IDX
    write("fuzz_virtio_net", hdr(both | F_EVENT_IDX | F_INDIRECT, feat=0x20) + dev2(0x10) +
          poke(BUF, ack) + chain(CTRL, 0, [(BUF, 1, False), (BUF + 1, 1, False),
                                           (STATUS, 1, True)], indirect_at=0xb000) +
          avail(CTRL, 0) + kick(CTRL) + dev2(0x10) + net_ctrl(1, ack, split=True) + kick(CTRL))
    # without GUEST_ANNOUNCE: the ack is an error, the status never shows a request
    write("fuzz_virtio_net", hdr(NET_CTRL_VQ, feat=0x20) + dev2(0x10) + net_ctrl(0, ack) +
          kick(CTRL))
    # commands petrel does not offer (RX promiscuous, MAC table, VLAN, MQ, offloads), an ack with
    # data, an unknown class, one byte, nothing readable, no writable byte, a long command
    cmds = [bytes([0, 0, 1]), bytes([1, 0]) + bytes(8), bytes([2, 0, 5, 0]), bytes([4, 0, 1, 0]),
            bytes([5, 0]) + bytes(8), ack + b"\x00", bytes([0xff, 0xff]), bytes([3]), b""]
    seed = hdr(both, qexp=5, feat=0x20)
    for k, c in enumerate(cmds):
        seed += net_ctrl(3 * k, c, ack_at=STATUS + k, at=BUF + 0x100 * k)
    seed += net_ctrl(30, ack, ack_len=0) + kick(CTRL)
    seed += net_ctrl(0, bytes([1, 1]) + bytes(100), at=BUF + 0x400) + kick(CTRL)
    write("fuzz_virtio_net", seed)
    # a loop, a head out of range, a writable command; then a reset clears the request
    write("fuzz_virtio_net", hdr(both, feat=0x20) + dev2(0x10) +
          desc(CTRL, 0, BUF, 2, D_NEXT, 1) + desc(CTRL, 1, BUF, 2, D_NEXT, 0) + avail(CTRL, 0) +
          kick(CTRL) + reset() + dev2(0x10) + avail(CTRL, 300) + kick(CTRL) + reset() +
          dev2(0x10) + desc(CTRL, 0, BUF, 2, D_WRITE) + avail(CTRL, 0) + kick(CTRL) + reset() +
          net_ctrl(0, ack) + kick(CTRL))
    # changing memory: the command rewritten between the device's reads
    race = bytes([0, 0, 0, 0, 0, 0x81, 0, 0xff, 0xff]) + bytes(3)
    write("fuzz_virtio_net", hdr(both, feat=0x20, race=race) + dev2(0x10) + net_ctrl(0, ack) +
          kick(CTRL) + race)
    # traffic and control together
    write("fuzz_virtio_net", hdr(both, feat=0x21) + net_rx_bufs(0, 2, 1526) + kick(0) +
          dev2(0x10) + packet(bytes(12) + bytes(range(60))) + net_ctrl(0, ack, at=BUF + 0x800) +
          net_tx(0, bytes(range(60))) + kick(1) + kick(CTRL) + dev2(0))


# ---- virtio-console: queue 0 receives, queue 1 transmits ----

def console():
    text = b"hello from the guest\n"
    tx = poke(BUF, text) + desc(1, 0, BUF, len(text), 0) + avail(1, 0) + kick(1)
    rx = desc(0, 0, 0x6000, 64, D_WRITE) + avail(0, 0) + desc(0, 1, 0x6100, 8, D_WRITE) + \
        desc(0, 2, 0xbffc, 8, D_WRITE) + avail(0, 1) + kick(0)
    write("fuzz_virtio_console", hdr(feat=1) + tx)
    write("fuzz_virtio_console", hdr(feat=1) + rx + dev(5) + b"early" + tx + dev2(1) +
          dev(20) + b"typed input, longer!" + dev2(0, 100, 0, 40, 0))
    write("fuzz_virtio_console", hdr(F_EVENT_IDX | F_INDIRECT) + tx + chain(
        0, 0, [(0x6000, 4, True), (0x6010, 4, True)], indirect_at=0xb000) + avail(0, 0) +
        kick(0) + dev(12) + b"0123456789ab" + reset() + tx + rx + dev(3) + b"abc")
    # a readable receive buffer and an empty one, a transmit loop
    write("fuzz_virtio_console", hdr() + desc(0, 0, 0x6000, 8, 0) + avail(0, 0) +
          desc(0, 1, 0x6000, 0, D_WRITE) + avail(0, 1) + kick(0) +
          desc(1, 0, BUF, 8, D_NEXT, 0) + avail(1, 0) + kick(1))
    race = bytes([0, 0, 0, 0xc1, 0x00, 0x90, 1, 2])
    write("fuzz_virtio_console", hdr(race=race) + tx + rx + race)


# ---- virtio-rng ----

def rng():
    write("fuzz_virtio_rng", hdr() + desc(0, 0, BUF, 64, D_WRITE) + avail(0, 0) + kick())
    write("fuzz_virtio_rng", hdr(F_INDIRECT | F_EVENT_IDX, qexp=8) +
          chain(0, 0, [(BUF, 16, True), (0xbff8, 16, True)], indirect_at=0xb000) + avail(0, 0) +
          dev(1) + desc(0, 1, BUF + 0x100, 32, D_WRITE) + avail(0, 1) + kick() + dev(2) +
          desc(0, 2, BUF + 0x200, 32, D_WRITE) + avail(0, 2) + kick())
    write("fuzz_virtio_rng", hdr() + desc(0, 0, BUF, 8, 0) + avail(0, 0) + kick() + reset() +
          desc(0, 0, 0x20000, 8, D_WRITE) + avail(0, 0) + kick())


# ---- virtio-vsock: queue 0 receives, queue 1 transmits; a host listener on port 5 ----

def vsock_pkt(op, src_port=1024, dst_port=5, payload=b"", buf_alloc=65536, fwd_cnt=0, flags=0,
              src_cid=3, dst_cid=2, typ=1):
    return struct.pack("<QQIIIHHIII", src_cid, dst_cid, src_port, dst_port, len(payload), typ, op,
                       flags, buf_alloc, fwd_cnt) + payload


def vsock():
    rx = b""
    for k in range(4):
        rx += desc(0, k, 0x4000 + k * 0x800, 0x800, D_WRITE) + avail(0, k)
    rx += kick(0)

    def tx(head, pkt, at):
        return poke(at, pkt) + desc(1, head, at, len(pkt), 0) + avail(1, head) + kick(1)

    # the guest connects to port 5, the host accepts, both send, the guest shuts down
    write("fuzz_virtio_vsock", hdr() + rx + tx(0, vsock_pkt(1), BUF) + dev(0) +
          tx(1, vsock_pkt(5, payload=b"hello host"), BUF + 0x100) + dev(1, 0, 5) + b"hi vm" +
          dev(3) + tx(2, vsock_pkt(4, flags=3), BUF + 0x200) + dev(3))
    # header and payload in two descriptors; a refused port; a credit request
    hdr_only = vsock_pkt(5, payload=b"split")[:44]
    write("fuzz_virtio_vsock", hdr(F_EVENT_IDX) + rx + tx(0, vsock_pkt(1), BUF) + dev(0) +
          poke(BUF + 0x100, hdr_only) + poke(BUF + 0x180, b"split") +
          chain(1, 1, [(BUF + 0x100, 44, False), (BUF + 0x180, 5, False)]) + avail(1, 1) +
          kick(1) + tx(3, vsock_pkt(1, dst_port=6), BUF + 0x200) +
          tx(4, vsock_pkt(7, fwd_cnt=5), BUF + 0x300) + dev(3))
    # the host connects and the guest answers
    write("fuzz_virtio_vsock", hdr() + rx + dev2(10) + b"CONNECT 9\n" +
          tx(0, vsock_pkt(2, src_port=9, dst_port=0x40000000), BUF) + dev(1, 0, 4) + b"data" +
          dev(3) + dev(2, 0) + dev(3))
    # hostile: wrong cids, a length past the chain, an unknown op and type, a short header
    write("fuzz_virtio_vsock", hdr() + rx + tx(0, vsock_pkt(1, src_cid=4), BUF) +
          tx(1, vsock_pkt(1, dst_cid=3), BUF + 0x100) +
          tx(2, vsock_pkt(5, payload=b"x")[:44] + struct.pack("<I", 0), BUF + 0x200) +
          tx(3, vsock_pkt(99), BUF + 0x300) + tx(4, vsock_pkt(1, typ=2), BUF + 0x400) +
          tx(5, b"\x03" * 20, BUF + 0x500) + reset() + rx)
    race = bytes([0, 0, 0, 0xc1, 0x00, 0x90, 1, 2])
    write("fuzz_virtio_vsock", hdr(race=race) + rx + tx(0, vsock_pkt(1), BUF) + dev(0) +
          tx(1, vsock_pkt(5, payload=b"raced"), BUF + 0x100) + race)


# ---- virtio-balloon ----

def balloon():
    pfns = struct.pack("<6I", 0x10, 0x11, 0x12, 0x1f, 0x20, 0xffffffff)
    inflate = poke(BUF, pfns) + desc(0, 0, BUF, len(pfns), 0) + avail(0, 0) + kick(0)
    deflate = desc(1, 0, BUF, 8, 0) + avail(1, 0) + kick(1)
    stats = struct.pack("<HQ", 4, 123456) + struct.pack("<HQ", 99, 1) + b"\x05"
    write("fuzz_virtio_balloon", hdr(feat=7) + inflate + deflate)
    write("fuzz_virtio_balloon", hdr(feat=1) + dev(0) + struct.pack("<I", 1000) + inflate +
          dev(2) + struct.pack("<I", 6) + dev(1) + dev(3) +
          dev2(len(stats)) + stats + struct.pack("<II", 0x10000, 0x2000))
    # a chain of two buffers, one of them writable, and a length that is no multiple of 4
    write("fuzz_virtio_balloon", hdr(F_INDIRECT | F_EVENT_IDX) + poke(BUF, pfns) +
          chain(0, 0, [(BUF, 10, False), (BUF + 12, 8, True)], indirect_at=0xb000) +
          avail(0, 0) + kick(0) + reset() + inflate)
    write("fuzz_virtio_balloon", with_race(hdr(feat=4) + inflate + deflate))


def main():
    balloon()
    blk()
    virtq()
    net()
    net_ctrl_seeds()
    console()
    rng()
    vsock()


if __name__ == "__main__":
    main()
