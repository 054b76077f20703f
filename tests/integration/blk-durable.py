#!/usr/bin/env python3
"""Nothing lost: petrel is killed with SIGKILL at random moments while a guest
writes and flushes its virtio-blk disk, and every write the guest saw flushed
must be in the image.

The guest (tests/guests/blk_durable.S) writes numbered 4 KiB records in
batches of requests in flight together, rewriting the same records over and
over (one request in five is a WRITE_ZEROES of its records), and prints "flushed S S" once a FLUSH covering every record up to
sequence number S has completed OK. After each kill the test waits for the
image's lock (the last of petrel's I/O has then finished), replays the guest's
schedule and checks each record: it must hold the newest write (or zeroing)
reported flushed for it, or a newer one, intact. A SIGKILL leaves the host's page cache
alone, so this checks petrel's ordering: a write or flush it completes to the
guest must have been done.

Runs are split between three modes: the page cache, direct=on (O_DIRECT) and
write-through (the guest does not negotiate VIRTIO_BLK_F_FLUSH; each completed
write is stable and reported as such).

   blk-durable.py PETREL GUEST DIR [--runs N] [--max-delay MS] [--seed S]
                  [--modes page,direct,writethrough]

The images are made in a fresh folder under DIR, which must be on a file
system that allows O_DIRECT (tmpfs on older kernels does not: direct=on is
then not tested, and the test says so loudly)."""
import argparse, fcntl, os, random, re, shutil, signal, struct, subprocess, sys, tempfile
import threading, time

# The guest's disk layout and schedule (see blk_durable.S).
NREC, REC_BYTES, SECTOR = 64, 4096, 512
MAX_REQS, MAX_LEN, STRIDE, ZERO_EVERY = 4, 3, 37, 5
SPAN = MAX_REQS * MAX_LEN
MAGIC, K1, FILL = 0x52446C6572746570, 0x9E3779B97F4A7C15, 59
M64 = (1 << 64) - 1
# batches a record may be newer than the last report by (see the guest's pipeline)
AHEAD = 3

FLUSHED = re.compile(rb"flushed ([0-9a-f]{8}) \1")
MODE_LINE = {"page": b"blk_durable: flush mode", "direct": b"blk_durable: flush mode",
             "writethrough": b"blk_durable: write-through mode"}


def batches():
    """(batch number, [(seq, record, zeroed)...], last seq) for b = 0, 1, ..."""
    seq, b = 0, 0
    while True:
        rec = (b * STRIDE) % (NREC - SPAN + 1)
        ops = []
        for j in range(1 + b % 4):
            for _ in range(1 + (b + j) % 3):
                seq += 1
                ops.append((seq, rec, (b + j) % ZERO_EVERY == ZERO_EVERY - 2))
                rec += 1
        yield b, ops, seq
        b += 1


def record(rec, seq):
    """The bytes of record rec holding sequence number seq."""
    base = (((seq << 16) | rec) * K1) & M64
    out = b""
    for i in range(REC_BYTES // SECTOR):
        v = base ^ i
        head = [MAGIC, rec, seq, i]
        out += struct.pack("<64Q", *head, *([v] * FILL), (sum(head) + FILL * v) & M64)
    return out


def check_image(img, reports):
    """Problems of the image against the flushes reported (a list of sequence numbers)."""
    last = reports[-1] if reports else 0
    required = [0] * NREC   # newest write or zeroing reported flushed, per record
    writes = [set() for _ in range(NREC)]  # every write the guest may have made there
    zeroes = [[] for _ in range(NREC)]  # and every zeroing
    ends, horizon = set(), None
    for b, ops, end in batches():
        ends.add(end)
        for seq, rec, zeroed in ops:
            if seq <= last:
                required[rec] = seq
            (zeroes[rec].append if zeroed else writes[rec].add)(seq)
        if horizon is None and end >= last:
            horizon = b + AHEAD
        if horizon is not None and b >= horizon:
            break
    problems = [f"reported {s} is not the end of a batch" for s in reports if s not in ends]
    problems += [f"reports out of order: {reports}"] if reports != sorted(set(reports)) else []
    with open(img, "rb") as f:
        data = f.read()
    if len(data) != NREC * REC_BYTES:
        problems.append(f"the image is {len(data)} bytes, not {NREC * REC_BYTES}")
    for rec in range(NREC):
        blk = data[rec * REC_BYTES:(rec + 1) * REC_BYTES]
        if blk == bytes(REC_BYTES):
            # never written, or zeroed by the newest flushed request or a later one
            if required[rec] and not any(z >= required[rec] for z in zeroes[rec]):
                problems.append(f"record {rec}: LOST: zero, but write {required[rec]} was "
                                "flushed")
            continue
        seq = struct.unpack_from("<Q", blk, 16)[0]
        if blk != record(rec, seq):
            good = sum(blk[i:i + SECTOR] == record(rec, seq)[i:i + SECTOR]
                       for i in range(0, REC_BYTES, SECTOR))
            problems.append(f"record {rec}: corrupt (seq field {seq}, {good} of 8 sectors "
                            f"intact; flushed {required[rec]})")
        elif seq not in writes[rec]:
            problems.append(f"record {rec}: holds write {seq}, which the guest never made there")
        elif seq < required[rec]:
            what = "zeroing" if required[rec] in zeroes[rec] else "write"
            problems.append(f"record {rec}: LOST: holds write {seq}, but {what} "
                            f"{required[rec]} was flushed")
    return problems


def reader(pipe, sink, line=None):
    """Keep what comes from pipe in sink; set the event line at its first newline."""
    while True:
        chunk = pipe.read1(65536)
        if not chunk:
            return
        sink.append(chunk)
        if line and b"\n" in chunk:
            line.set()


def wait_lock(path, secs):
    """Take the image's lock: petrel's last I/O on it has finished (its file is closed)."""
    fd = os.open(path, os.O_RDONLY)
    try:
        deadline = time.monotonic() + secs
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                return True
            except BlockingIOError:
                if time.monotonic() > deadline:
                    return False
                time.sleep(0.002)
    finally:
        os.close(fd)


def direct_ok(folder):
    probe = os.path.join(folder, "probe")
    with open(probe, "wb") as f:
        f.truncate(REC_BYTES)
    try:
        os.close(os.open(probe, os.O_RDWR | os.O_DIRECT))
        return True
    except OSError:
        return False
    finally:
        os.unlink(probe)


def one_run(args, folder, mode, early, delay, n):
    """One run killed delay seconds after its start (early) or after the guest's first line:
    (problems, reports)."""
    img = os.path.join(folder, f"{mode}-{n}.img")
    with open(img, "wb") as f:
        f.truncate(NREC * REC_BYTES)
    disk = "path=" + img + {"page": "", "direct": ",direct=on",
                            "writethrough": ",serial=writethrough"}[mode]
    p = subprocess.Popen([args.petrel, "run", "--firmware", args.guest, "--mode", "long",
                          "--test-device", "--disk", disk], stdin=subprocess.DEVNULL,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    out, err, started = [], [], threading.Event()
    threads = [threading.Thread(target=reader, args=(p.stdout, out, started)),
               threading.Thread(target=reader, args=(p.stderr, err))]
    for t in threads:
        t.start()
    problems = []
    # a loaded machine may take a while to start petrel: the delay counts from the guest's start
    if not early and not started.wait(10):
        problems.append("the guest printed nothing in 10 s")
    time.sleep(delay)
    alive = p.poll() is None
    if alive:
        p.send_signal(signal.SIGKILL)
    rc = p.wait()
    for t in threads:
        t.join()
    if not alive:
        problems.append(f"petrel stopped by itself before the kill, status {rc}"
                        + (f" (guest check {rc >> 1} failed)" if rc & 1 and rc > 1 else ""))
    if not wait_lock(img, 10):
        problems.append("the image stayed locked 10 s after petrel was killed")
    text = b"".join(out)
    lines = text.split(b"\n")
    lines.pop()  # unfinished (or empty): the kill may cut a line short
    reports = []
    for i, line in enumerate(lines):
        m = FLUSHED.fullmatch(line)
        if m:
            reports.append(int(m.group(1), 16))
        elif not (i == 0 and line == MODE_LINE[mode]):
            problems.append(f"unexpected console line {line[:80]!r}")
    if b"".join(err).strip():
        problems.append("petrel wrote to stderr: " + b"".join(err).decode(errors="replace")[:300])
    problems += check_image(img, reports)
    if not problems:
        os.unlink(img)
    return problems, reports


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("petrel")
    ap.add_argument("guest")
    ap.add_argument("dir")
    ap.add_argument("--runs", type=int, default=120)
    ap.add_argument("--max-delay", type=int, default=300, help="ms")
    ap.add_argument("--seed", type=int, default=None)
    ap.add_argument("--modes", default="page,direct,writethrough")
    args = ap.parse_args()
    if not os.path.exists("/dev/kvm"):
        sys.exit("FAIL: /dev/kvm is missing: this test needs KVM")
    seed = args.seed if args.seed is not None else random.randrange(1 << 32)
    rng = random.Random(seed)
    print(f"seed {seed} (--seed {seed} repeats these delays)", flush=True)
    os.makedirs(args.dir, exist_ok=True)
    folder = tempfile.mkdtemp(prefix="blk-durable-", dir=args.dir)
    modes = args.modes.split(",")
    if "direct" in modes and not direct_ok(folder):
        print(f"WARNING: direct=on NOT TESTED: the file system of {args.dir} refuses O_DIRECT "
              "(tmpfs on older kernels does); give a folder on a disk file system", flush=True)
        modes.remove("direct")
    stats = {m: [0, 0, 0] for m in modes}  # runs, runs with a report, reports
    failed, stuck = 0, 0
    start = time.monotonic()
    for n in range(args.runs):
        mode = modes[n % len(modes)]
        # one run in eight is killed in its first 20 ms, while petrel starts; the others
        # up to --max-delay after the guest's first line
        early = rng.random() < 0.125
        ms = rng.uniform(0, 20) if early else rng.uniform(0, args.max_delay)
        problems, reports = one_run(args, folder, mode, early, ms / 1000, n)
        st = stats[mode]
        st[0] += 1
        st[1] += bool(reports)
        st[2] += len(reports)
        if problems:
            failed += 1
            print(f"FAIL: run {n} ({mode}, killed {ms:.0f} ms after "
                  f"{'its start' if early else 'the guest started'}, last flushed "
                  f"{reports[-1] if reports else 'none'}): image kept in {folder}", flush=True)
            for pr in problems[:20]:
                print("    " + pr, flush=True)
    secs = time.monotonic() - start
    for mode, (runs, live, reports) in stats.items():
        print(f"{mode}: {runs} runs, {live} with flushes reported, {reports} flushes checked",
              flush=True)
        # the guest must get going: a stuck guest would pass every check vacuously
        if runs >= 8 and live < runs // 4:
            print(f"FAIL: {mode}: too few runs saw a flush: the guest does not progress",
                  flush=True)
            stuck += 1
    print(f"{args.runs - failed} of {args.runs} runs passed in {secs:.1f} s", flush=True)
    if not failed:
        shutil.rmtree(folder)
    sys.exit(1 if failed or stuck else 0)


if __name__ == "__main__":
    main()
