#!/usr/bin/env python3
"""bench/blk: disk throughput and IOPS of the same Linux guest under petrel and
under QEMU (virtio-blk-pci with QEMU's default aio=threads and with
aio=io_uring), and of the host doing the same I/O on the image file directly.

Every configuration runs blkbench (bench/blkbench.c) against one raw image in
/tmp: the guests get it as a virtio-blk disk and run blkbench on /dev/vda from
the test initramfs (the bench appends a second cpio archive holding blkbench and
/test.sh); the host runs blkbench on the file. Each run starts with a short
unmeasured pass. Configurations are interleaved, RUNS times each; medians are
printed with ratios to the host's own figures and petrel against the better QEMU.
Needs a /dev/kvm with hardware virtualization (run it in the lab elsewhere).

  bench/blk.py [--seconds S] [--seq-size SIZE] [--image-size SIZE] [--only LIST]
               [--pin CPUS] [RUNS]
"""
import argparse, gzip, io, os, re, shutil, statistics, subprocess, sys, tempfile, time

METRICS = [  # (blkbench name, label, unit)
    ("seq-write-MBps", "seq write 1M", "MB/s"),
    ("seq-read-MBps", "seq read 1M", "MB/s"),
    ("rand-read-qd1-IOPS", "rand read 4K QD1", "IOPS"),
    ("rand-read-qd32-IOPS", "rand read 4K QD32", "IOPS"),
]
LINE = re.compile(r"blkbench ([a-z0-9-]+(?:MBps|IOPS|lat-us)) ([0-9.]+)")


def size_arg(s):
    m = re.fullmatch(r"(\d+)([KMG]?)", s.upper())
    if not m:
        raise argparse.ArgumentTypeError(f"bad size {s}")
    return int(m.group(1)) << {"": 0, "K": 10, "M": 20, "G": 30}[m.group(2)]


def newc(entries):
    """A cpio archive (newc) of (name, mode, data) entries, with its trailer."""
    out = io.BytesIO()

    def pad(n):
        out.write(b"\0" * (-n % 4))

    for ino, (name, mode, data) in enumerate(entries + [("TRAILER!!!", 0, b"")], 1):
        nb = name.encode() + b"\0"
        fields = [ino, mode, 0, 0, 1, 0, len(data), 0, 0, 0, 0, len(nb), 0]
        hdr = b"070701" + b"".join(b"%08X" % f for f in fields)
        out.write(hdr + nb)
        pad(len(hdr) + len(nb))
        out.write(data)
        pad(len(data))
    return out.getvalue()


def bench_initramfs(base, blkbench, script, dest):
    """The test initramfs with a second gzip'd cpio appended: /bin/blkbench and
    an executable /test.sh (Linux unpacks concatenated archives in order)."""
    with open(blkbench, "rb") as f:
        tool = f.read()
    extra = newc([("bin/blkbench", 0o100755, tool), ("test.sh", 0o100755, script.encode())])
    with open(dest, "wb") as out:
        with open(base, "rb") as f:
            shutil.copyfileobj(f, out)
        out.write(b"\0" * (-out.tell() % 4))
        out.write(gzip.compress(extra, compresslevel=1))


def run(cmd, timeout):
    """Run one configuration; return ({metric: value}, info lines, seconds, error)."""
    # Every configuration starts with the image out of the host's page cache: a
    # run after one that left it cached would write into pages that already
    # exist, about twice as fast as one that allocates them.
    if os.geteuid() == 0:
        os.sync()
        with open("/proc/sys/vm/drop_caches", "w") as f:
            f.write("3\n")
    t0 = time.monotonic()
    try:
        p = subprocess.run(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, timeout=timeout)
        out, err, rc = p.stdout, p.stderr, p.returncode
    except subprocess.TimeoutExpired as e:
        out, err, rc = e.stdout or b"", e.stderr or b"", "timeout"
    secs = time.monotonic() - t0
    text = out.decode(errors="replace").replace("\r", "")
    vals = {m.group(1): float(m.group(2)) for m in LINE.finditer(text)}
    info = [l.strip() for l in text.splitlines() if "blkbench info" in l or "blkbench error" in l]
    error = None
    if rc != 0 or "blkbench done" not in text:
        tail = (text.strip().splitlines() or [""])[-3:]
        error = f"status {rc}: " + " | ".join(tail + err.decode(errors="replace").strip().splitlines()[-2:])
    return vals, info, secs, error


def main():
    ap = argparse.ArgumentParser(description="disk benchmark: petrel, QEMU and the host")
    ap.add_argument("runs", nargs="?", type=int, default=3)
    ap.add_argument("--seconds", type=float, default=3, help="per test (default 3)")
    ap.add_argument("--seq-size", type=size_arg, default=64 << 20, help="per sequential pass")
    ap.add_argument("--image-size", type=size_arg, default=256 << 20)
    ap.add_argument("--timeout", type=int, default=300, help="per guest run")
    # In the lab, a wake-up across the inner machine's CPUs (VMM I/O thread to
    # vCPU thread) costs far more than on real hardware and makes runs bimodal;
    # on one CPU every configuration pays the same and runs repeat.
    ap.add_argument("--pin", metavar="CPUS", default="0" if os.environ.get("LAB") else "none",
                    help="run every configuration under taskset -c CPUS (default: 0 in "
                    "the lab, else none)")
    ap.add_argument("--fs", choices=["ext4", "tmpfs"],
                    default="ext4" if os.geteuid() == 0 else "tmpfs",
                    help="where the image lives: an ext4 file system on a loop device "
                    "(default as root) or /tmp directly")
    ap.add_argument("--only", help="comma-separated subset of: host,petrel,qemu-threads,"
                    "qemu-io_uring,petrel-direct,qemu-none (the host always runs)")
    ap.add_argument("--wrap", metavar="CMD", default="",
                    help="run each VMM under CMD (e.g. 'perf trace -s -o FILE'; %%s in CMD "
                    "becomes the configuration's name) to see where its time goes")
    a = ap.parse_args()

    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    build = os.environ.get("PETREL_BUILD", os.path.join(root, "build"))
    if not os.path.isabs(build):
        build = os.path.join(root, build)
    env = dict(l.split("=", 1) for l in subprocess.check_output(
        [os.path.join(root, "scripts/guest-initramfs.sh"), build], text=True).split())
    kernel = env["KERNEL"]
    blkbench = os.path.join(build, "bench", "blkbench")
    petrel = os.path.join(build, "petrel")

    work = tempfile.mkdtemp(prefix="petrel-blk.", dir="/tmp")  # tmpfs in the lab
    mnt = None
    try:
        img_dir = work
        if a.fs == "ext4":
            # The image on an ext4 file system, as on a host's disk (O_DIRECT works
            # there, unlike tmpfs); its loop device is backed by a tmpfs file.
            backing = os.path.join(work, "fs.img")
            mnt = os.path.join(work, "fs")
            os.mkdir(mnt)
            subprocess.check_call(["truncate", "-s", str(a.image_size + (256 << 20)), backing])
            subprocess.check_call(["mkfs.ext4", "-q", "-F", backing])
            subprocess.check_call(["mount", "-o", "loop", backing, mnt])
            img_dir = mnt
        img = os.path.join(img_dir, "disk.img")
        with open(img, "wb") as f:  # written out, not sparse: every block is real
            chunk = b"\x5a" * (1 << 20)
            for _ in range(a.image_size >> 20):
                f.write(chunk)
        opts = f"-s {a.seq_size} -t {a.seconds:g}"
        # A short unmeasured pass first: the first writes after boot run slower.
        warm = "-s 16M -t 1 -T seq-write,seq-read"
        script = (f"#!/bin/sh\n/bin/blkbench {warm} /dev/vda >/dev/null\n"
                  f"/bin/blkbench {opts} /dev/vda\n"
                  # what the guest's block layer sent: requests, sizes, time per request
                  "echo blkbench info vda-stat $(cat /sys/block/vda/stat)\n")
        initrd = os.path.join(work, "bench-initramfs.cpio.gz")
        bench_initramfs(env["INITRAMFS"], blkbench, script, initrd)

        # QEMU's default cache mode, like petrel: the host's page cache is used
        cache = "writeback"
        mem = "512M"
        q = ["qemu-system-x86_64", "-enable-kvm", "-cpu", "host", "-M", "pc", "-m", mem,
             "-smp", "1", "-nodefaults", "-no-user-config", "-display", "none",
             "-serial", "stdio", "-no-reboot", "-kernel", kernel, "-initrd", initrd,
             "-append", "console=ttyS0 quiet panic=-1 petrel.action=script",
             "-device", "virtio-blk-pci,drive=d0", "-drive"]
        drive = f"file={img},if=none,id=d0,format=raw,cache={cache}"
        def petrel_cmd(disk_opts=""):
            return [petrel, "run", "--kernel", kernel, "--initramfs", initrd, "--memory", mem,
                    "--cmdline", "quiet panic=-1 petrel.action=script",
                    "--disk", f"path={img}{disk_opts}", "--serial", "stdio"]

        configs = {
            "host": ["sh", "-c", f"{blkbench} {warm} {img} >/dev/null && "
                     f"exec {blkbench} {opts} {img}"],
            "petrel": petrel_cmd(),
            "qemu threads": q + [drive],
            "qemu io_uring": q + [drive + ",aio=io_uring"],
        }
        if a.fs == "ext4":
            # Without the host's page cache (tmpfs refuses O_DIRECT): petrel's
            # direct=on against QEMU's cache=none with Linux AIO, its usual pairing.
            configs["petrel direct"] = petrel_cmd(",direct=on")
            configs["qemu none"] = q + [
                f"file={img},if=none,id=d0,format=raw,cache=none,aio=native"]
        if a.only:
            keep = {"host"} | {k.replace("-", " ") for k in a.only.split(",")}
            configs = {k: v for k, v in configs.items() if k in keep}
        if a.wrap:
            configs = {k: (a.wrap.replace("%s", k.replace(" ", "-")).split() + v
                           if k != "host" else v) for k, v in configs.items()}
        if a.pin != "none":
            configs = {k: ["taskset", "-c", a.pin] + v for k, v in configs.items()}
        res = {k: [] for k in configs}
        infos, errors = {}, []
        for i in range(a.runs):
            for name, cmd in configs.items():
                vals, info, secs, error = run(cmd, a.timeout)
                infos.setdefault(name, info)
                print(f"bench/blk: run {i + 1}/{a.runs} {name}: {secs:.1f}s"
                      + (f" FAILED {error}" if error else ""), file=sys.stderr, flush=True)
                if error:
                    errors.append(f"{name} run {i + 1}: {error}")
                res[name].append(vals)
    finally:
        if mnt:
            subprocess.call(["umount", mnt])
        shutil.rmtree(work, ignore_errors=True)

    def med(name, metric):
        v = [r[metric] for r in res.get(name, []) if metric in r]
        return statistics.median(v) if v else None

    guests = [k for k in configs if k != "host"]
    # petrel against QEMU in the same caching: through the host's page cache, and not
    pairs = [("petrel", [k for k in ("qemu threads", "qemu io_uring") if k in configs]),
             ("petrel direct", [k for k in ("qemu none",) if k in configs])]
    pairs = [(p, qs) for p, qs in pairs if p in configs and qs]
    print(f"bench/blk: {a.runs} runs each, interleaved, medians. Image {a.image_size >> 20} MiB "
          f"on {'ext4 (loop device over tmpfs)' if a.fs == 'ext4' else 'tmpfs'}; sequential passes {a.seq_size >> 20} MiB or {a.seconds:g} s, random "
          f"reads {a.seconds:g} s over the whole image. MB = 10^6 bytes.")
    print("every configuration pinned with taskset -c " + a.pin if a.pin != "none"
          else "no CPU pinning")
    print("x host = config / host; vs QEMU = petrel / the better QEMU of the same caching "
          "(page cache: threads, io_uring; direct: none); goal: petrel >= 0.9 x host and above QEMU")
    head = f"{'test':18} {'unit':5} {'host':>9}"
    for g in guests:
        head += f" {g:>13} {'x host':>6}"
    for p, _ in pairs:
        head += f" {p + ' vs QEMU':>20}"
    head += "  goal"
    print(head)
    for metric, label, unit in METRICS:
        h = med("host", metric)
        fmt = ".1f" if unit == "MB/s" else ".0f"
        row = f"{label:18} {unit:5} {h if h is not None else float('nan'):9{fmt}}"
        for g in guests:
            v = med(g, metric)
            r = v / h if v is not None and h else None
            row += f" {v if v is not None else float('nan'):13{fmt}} "
            row += f"{r:6.3f}" if r is not None else f"{'-':>6}"
        goal = []
        for pname, qs in pairs:
            p = med(pname, metric)
            best = max((med(k, metric) for k in qs if med(k, metric) is not None), default=None)
            if p is not None and best:
                row += f" {p / best:20.2f}"
                goal.append(bool(h and p >= 0.9 * h and p > best))
            else:
                row += f" {'-':>20}"
        row += "  " + ("met" if goal and any(goal) else "missed" if goal else "-")
        print(row)
    lat = {k: med(k, "rand-read-qd1-lat-us") for k in configs}
    print("QD1 mean latency us: " + ", ".join(
        f"{k} {v:.1f}" for k, v in lat.items() if v is not None))
    print("runs (every value, in run order):")
    for metric, label, _ in METRICS:
        print(f"  {label}: " + "; ".join(
            f"{k} " + " ".join(f"{r[metric]:.0f}" if metric in r else "-" for r in res[k])
            for k in configs))
    direct = {k: any("direct 1" in l for l in infos.get(k, [])) for k in configs}
    print("caching: host blkbench on the image file: "
          + ("O_DIRECT" if direct["host"] else "buffered (O_DIRECT refused by the file system)"))
    print("  guests: blkbench on /dev/vda: "
          + ", ".join(f"{k} {'O_DIRECT' if direct[k] else 'buffered'}" for k in guests))
    print("  petrel: opens the image without O_DIRECT (host page cache), I/O through io_uring; "
          "'petrel direct' is --disk ...,direct=on (O_DIRECT)")
    print(f"  qemu: -drive cache={cache} (its default, like petrel)"
          + "; 'qemu threads' is QEMU's default aio=threads, 'qemu io_uring' is aio=io_uring; "
          "'qemu none' is cache=none,aio=native (O_DIRECT, Linux AIO)")
    # /sys/block/vda/stat of each guest's first run (warm-up and measured passes):
    # reads, merges, sectors, ms; writes, merges, sectors, ms; ...; flushes, ms
    for k in guests:
        for l in infos.get(k, []):
            f = l.split("vda-stat", 1)[1].split() if "vda-stat" in l else []
            if len(f) >= 8:
                r, rs, rms, w, ws, wms = (int(f[i]) for i in (0, 2, 3, 4, 6, 7))
                print(f"  {k}: guest requests: {r} reads of {rs * 512 / max(r, 1) / 1024:.0f} KiB "
                      f"({rms * 1000 / max(r, 1):.0f} us each), {w} writes of "
                      f"{ws * 512 / max(w, 1) / 1024:.0f} KiB ({wms * 1000 / max(w, 1):.0f} us each)"
                      + (f", {f[15]} flushes" if len(f) >= 16 else ""))
    if errors:
        print("errors:")
        for e in errors:
            print("  " + e)
        sys.exit(1)


main()
