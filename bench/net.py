#!/usr/bin/env python3
"""bench/net: TCP throughput of the same Linux guest under petrel and under
QEMU (virtio-net-pci on a TAP, vhost=off and vhost=on), both directions.

Every configuration boots the test kernel and initramfs with a second cpio
archive appended that holds /test.sh (run by petrel.action=script): it brings
eth0 up, waits until it can ping the host, then moves SIZE bytes guest->host
and SIZE bytes host->guest with busybox nc, one TCP connection each. The host
side is this script: it times each transfer on its own clock, guest->host from
the first byte received to the guest's end of stream, host->guest from the
first byte sent to the guest's close, and checks the byte counts (the guest
reports how much it received). Configurations are interleaved, RUNS times each;
medians in MB/s (10^6 bytes) are printed with ratios to petrel, and the
median round-trip time of 20 pings from the guest over the idle link.
Each run also reports what each transfer cost per MiB moved: KVM's exits and
interrupt injections (debugfs; by exit reason with --exit-reasons), the CPU
used by the VMM's busiest threads and by the whole machine, the guest's own
packet and interrupt counts, and for petrel its per-queue kicks and interrupts.
In the lab the guest kernel dies now and then mid-transfer (a double fault on
system call entry), or stops, under every VMM alike: such a run is booted again,
up to max(3, RUNS) times per configuration, and these are counted in the output.
Needs a /dev/kvm with hardware virtualization (run it in the lab elsewhere),
root (it creates a TAP) and /dev/vhost-net for the vhost=on row (it tries to
load vhost_net; without it that row says why it is unavailable).

  bench/net.py [--size MIB] [--only LIST] [--wrap CMD] [--exit-reasons] [RUNS]
"""
import argparse, gzip, os, shutil, socket, statistics, subprocess, sys, tempfile, threading, time

TAP = "pnbench0"
HOST_IP, GUEST_IP = "10.99.0.1", "10.99.0.2"
MAC = "52:54:00:99:00:02"  # the same for every configuration: one ARP entry
PORT_TO_HOST, PORT_TO_GUEST = 5201, 5202
BOOT_WAIT = 240  # seconds from start to the first connection (a nested boot)
XFER_WAIT = 30  # seconds without progress before a transfer counts as hung

# The guest's side. busybox nc half-closes the connection as soon as its stdin
# ends: for guest->host that is what marks the end of the data; for host->guest
# its stdin is a FIFO that nobody writes, so the connection stays open until
# nc has read the host's end of stream and exits, and the host's "done" is the
# moment the guest has really received everything.
GUEST_SCRIPT = """#!/bin/sh
say() {{ echo "bench-net: $*"; }}
ip link set lo up
ip link set eth0 up && ip addr add {guest}/24 dev eth0 || {{ say "error no eth0"; exit 1; }}
i=0
until ping -c 1 -W 1 {host} >/dev/null 2>&1; do
	i=$((i + 1))
	[ $i -lt 60 ] || {{ say "error the host does not answer pings"; exit 1; }}
done
# latency of an idle link: 20 pings, 0.2 s apart
say "ping $(ping -q -c 20 -i 0.2 {host} 2>&1 | tail -1)"
head -c {size} /dev/zero >/tmp/out.bin
say ready
nc {host} {port_to_host} </tmp/out.bin >/dev/null
say "to-host status $?"
# what the guest saw of that transfer: packets, interrupts, retransmissions
say "info guest->host: $(cat /sys/class/net/eth0/statistics/tx_packets) tx and \
$(cat /sys/class/net/eth0/statistics/rx_packets) rx packets; interrupts \
$(awk '/virtio.*(input|output)/ {{printf "%s=%s ", $NF, $2}}' /proc/interrupts)\
tcp retransmits $(awk '/^Tcp:/ {{n++}} n == 2 && /^Tcp:/ {{print $13; exit}}' /proc/net/snmp)"
rm -f /tmp/out.bin
mkfifo /tmp/idle
sleep 100000 >/tmp/idle &
nc {host} {port_to_guest} </tmp/idle >/tmp/in.bin
st=$?
kill $! 2>/dev/null
say "from-host status $st bytes $(wc -c </tmp/in.bin)"
"""


def sh(*cmd, check=True):
    return subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                          check=check)


def shell_vars(text):
    return dict(l.split("=", 1) for l in text.split() if "=" in l)


def extend_initramfs(base, script, dest, work):
    """base, then a gzip'd newc archive holding an executable /test.sh."""
    tree = os.path.join(work, "extra")
    os.makedirs(tree)
    with open(os.path.join(tree, "test.sh"), "w") as f:
        f.write(script)
    os.chmod(os.path.join(tree, "test.sh"), 0o755)
    archive = subprocess.run(["cpio", "-o", "-H", "newc", "--quiet", "-R", "0:0"], cwd=tree,
                             input=b"test.sh\n", stdout=subprocess.PIPE, check=True).stdout
    with open(dest, "wb") as out, open(base, "rb") as f:
        shutil.copyfileobj(f, out)
        out.write(gzip.compress(archive, 1))


def load_vhost_net(root, kvars):
    """Make /dev/vhost-net exist; None when it does, else why not."""
    if os.path.exists("/dev/vhost-net"):
        return None
    if shutil.which("modprobe"):
        sh("modprobe", "vhost_net", check=False)
        if os.path.exists("/dev/vhost-net"):
            return None
    # The lab's kernel is the test guest's kernel: its modules are in the cache.
    if os.uname().release != kvars["KVER"]:
        return f"no /dev/vhost-net, and no vhost_net module for kernel {os.uname().release}"
    r = sh(os.path.join(root, "scripts/kmod-closure.sh"), kvars["MODULES"], "vhost_net",
           check=False)
    if r.returncode != 0:
        return f"no /dev/vhost-net: {r.stdout.strip()}"
    tmp = tempfile.mkdtemp(prefix="petrel-bench-kmod.")
    try:
        for path in r.stdout.split():
            name = os.path.basename(path).split(".ko")[0]
            if os.path.isdir(f"/sys/module/{name.replace('-', '_')}"):
                continue
            ko = os.path.join(tmp, name + ".ko")
            unpack = {".xz": ["xz", "-dc"], ".zst": ["zstd", "-dqc"]}.get(os.path.splitext(path)[1])
            with open(ko, "wb") as out:
                if unpack:  # busybox insmod takes plain modules only
                    subprocess.run(unpack + [path], stdout=out, check=True)
                else:
                    with open(path, "rb") as f:
                        shutil.copyfileobj(f, out)
            r = sh(kvars["BUSYBOX"], "insmod", ko, check=False)
            if r.returncode != 0:
                return f"no /dev/vhost-net: insmod {name}: {r.stdout.strip()}"
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    for _ in range(50):  # devtmpfs makes the node as the misc device registers
        if os.path.exists("/dev/vhost-net"):
            return None
        time.sleep(0.1)
    return "vhost_net loaded but no /dev/vhost-net appeared"


def tap_setup():
    tap_teardown()
    sh("ip", "tuntap", "add", "dev", TAP, "mode", "tap")
    sh("ip", "addr", "add", f"{HOST_IP}/24", "dev", TAP)
    sh("ip", "link", "set", TAP, "up")


def tap_teardown():
    sh("ip", "link", "del", TAP, check=False)


def listener(port):
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((HOST_IP, port))
    s.listen(1)
    s.settimeout(0.5)
    return s


class Guest:
    """One VMM process; its console lines are collected by a thread."""

    def __init__(self, cmd):
        self.lines = []
        self.p = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                  stderr=subprocess.STDOUT)
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self):
        for raw in self.p.stdout:
            self.lines.append(raw.decode(errors="replace").rstrip("\r\n"))

    def alive(self):
        return self.p.poll() is None

    def line(self, prefix):
        for l in self.lines:
            if l.startswith(prefix):
                return l
        return None

    def crashed(self):
        """The guest's kernel died (it prints this before the VMM exits)."""
        return any("Kernel panic" in l or "the guest reported a kernel panic" in l
                   for l in self.lines)

    def tail(self, n=15):
        return "\n".join("    " + l for l in self.lines[-n:])

    def stop(self, wait):
        try:
            self.p.wait(wait)
        except subprocess.TimeoutExpired:
            self.p.kill()
            self.p.wait()
        self.reader.join(5)


class Failed(Exception):
    pass


class Progress:
    """Waits on a socket a second at a time: fails once the VMM has exited,
    or when nothing moved for XFER_WAIT seconds."""

    def __init__(self, guest, what):
        self.guest, self.what, self.last = guest, what, time.monotonic()

    def moved(self):
        self.last = time.monotonic()

    def idle(self, detail):
        if not self.guest.alive():
            self.guest.reader.join(5)
            raise Failed(f"{self.what}: the VMM exited ({self.guest.p.returncode}) {detail}")
        if time.monotonic() - self.last > XFER_WAIT:
            raise Failed(f"{self.what}: stalled {detail}")


def accept(sock, guest, seconds, what):
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        try:
            c, _ = sock.accept()
            c.settimeout(1)
            return c
        except socket.timeout:
            if not guest.alive():
                guest.reader.join(5)
                raise Failed(f"the VMM exited ({guest.p.returncode}) before {what}")
    raise Failed(f"no connection for {what} within {seconds}s")


KVM_STATS = "/sys/kernel/debug/kvm"
# the exits of the guest that tell where a packet's cost goes
KVM_COUNTERS = ("exits", "io_exits", "mmio_exits", "irq_injections", "halt_exits",
                "irq_exits", "halt_wakeup")


def kvm_counters():
    """KVM's own counters over every VM (the bench runs one at a time), or {}."""
    if not os.path.isdir(KVM_STATS) or not os.listdir(KVM_STATS):
        sh("mount", "-t", "debugfs", "none", "/sys/kernel/debug", check=False)
    out = {}
    for k in KVM_COUNTERS:
        try:
            with open(os.path.join(KVM_STATS, k)) as f:
                out[k] = int(f.read())
        except (OSError, ValueError):
            pass
    return out


EXIT_HIST = "/sys/kernel/debug/tracing/events/kvm/kvm_exit/hist"
# AMD exit codes (the lab's CPU) worth naming
SVM_EXITS = {0x60: "intr", 0x61: "nmi", 0x64: "vintr", 0x72: "cpuid", 0x77: "pause",
             0x78: "hlt", 0x7b: "io", 0x7c: "msr", 0x400: "npf", 0x401: "avic_ipi",
             0x402: "avic_access"}


def exit_reasons():
    """Exits so far by reason, when --exit-reasons set up KVM's trace histogram."""
    out = {}
    try:
        with open(EXIT_HIST) as f:
            lines = f.readlines()
    except OSError:
        return out
    for line in lines:
        if line.startswith("{ exit_reason:"):  # "{ exit_reason: 7c } hitcount: 9802"
            key, count = line.split("}")
            code = int(key.split(":")[1].split()[0], 16)
            out[SVM_EXITS.get(code, hex(code))] = int(count.split(":")[1])
    return out


def task_ticks(path):
    """utime + stime of /proc/.../stat, and the task's name."""
    try:
        with open(path) as f:
            name, v = f.read().split("(", 1)[1].rsplit(")", 1)
        v = v.split()
        return int(v[11]) + int(v[12]), name
    except (OSError, IndexError, ValueError):
        return 0, "?"


def cpu_ticks(pid):
    """Clock ticks used by the VMM process, by each of its threads (by name)
    and by the whole machine."""
    threads = {}
    try:
        for t in os.listdir(f"/proc/{pid}/task"):
            ticks, name = task_ticks(f"/proc/{pid}/task/{t}/stat")
            threads[f"{name}/{t}"] = ticks
    except OSError:
        pass
    with open("/proc/stat") as f:
        cpu = [int(x) for x in f.readline().split()[1:]]
    # busy = all but idle and iowait
    return task_ticks(f"/proc/{pid}/stat")[0], sum(cpu) - cpu[3] - cpu[4], threads


class Costs:
    """What one transfer cost: KVM exits per MiB moved, CPU of the VMM and the machine."""

    def __init__(self, pid):
        self.pid = pid
        self.kvm0, self.cpu0, self.t0 = kvm_counters(), cpu_ticks(pid), time.monotonic()
        self.why0 = exit_reasons()

    def report(self, nbytes):
        kvm1, cpu1, why1 = kvm_counters(), cpu_ticks(self.pid), exit_reasons()
        mib = nbytes / (1 << 20) or 1
        hz = os.sysconf("SC_CLK_TCK")
        secs = (time.monotonic() - self.t0) or 1
        parts = [f"{k} {(kvm1[k] - self.kvm0[k]) / mib:.0f}" for k in KVM_COUNTERS
                 if k in kvm1 and k in self.kvm0]
        why = sorted(((why1[k] - self.why0.get(k, 0), k) for k in why1), reverse=True)
        if why:
            parts.append("(by reason: " + ", ".join(f"{k} {v / mib:.0f}" for v, k in why
                                                     if v / mib >= 1) + ")")
        pct = lambda ticks: f"{ticks / hz / secs * 100:.0f}%"
        busiest = sorted(((cpu1[2][t] - self.cpu0[2].get(t, 0), t) for t in cpu1[2]),
                         reverse=True)[:3]
        return ("per MiB: " + (", ".join(parts) if parts else "no KVM counters") +
                f"; VMM CPU {pct(cpu1[0] - self.cpu0[0])} (" +
                ", ".join(f"{t.split('/')[0]} {pct(v)}" for v, t in busiest) +
                f"), machine busy {pct(cpu1[1] - self.cpu0[1])}")


def to_host(sock, guest):
    """Bytes and seconds from the first byte to the guest's end of stream."""
    c = accept(sock, guest, BOOT_WAIT, "guest->host")
    costs = Costs(guest.p.pid)
    prog = Progress(guest, "guest->host")
    buf = bytearray(1 << 20)
    n = 0
    start = None
    try:
        while True:
            try:
                k = c.recv_into(buf)
            except socket.timeout:
                prog.idle(f"after {n} bytes")
                continue
            if not k:
                break
            if start is None:
                start = time.monotonic()
            n += k
            prog.moved()
    finally:
        c.close()
    guest.costs = ["guest->host " + costs.report(n)]
    return n, time.monotonic() - start if start else 0.0


def to_guest(sock, guest, size):
    """Seconds from the first byte sent to the guest's close."""
    c = accept(sock, guest, 60, "host->guest")
    costs = Costs(guest.p.pid)
    prog = Progress(guest, "host->guest")
    chunk = memoryview(bytes(1 << 20))
    left = size
    start = time.monotonic()
    try:
        while left:
            try:
                left -= c.send(chunk[:min(left, len(chunk))])
                prog.moved()
            except socket.timeout:
                prog.idle(f"with {left} of {size} bytes unsent")
        c.shutdown(socket.SHUT_WR)
        while True:
            try:
                if not c.recv(65536):
                    break
            except socket.timeout:
                prog.idle("waiting for the guest to close")
    except OSError as e:
        raise Failed(f"host->guest: {e}")
    finally:
        c.close()
    guest.costs.append("host->guest " + costs.report(size))
    return time.monotonic() - start


def has_vhost_thread(pid):
    """vhost-net's worker for a QEMU process is named vhost-PID: a kernel thread
    on older kernels, a thread of the process itself on newer ones."""
    want = f"vhost-{pid}"
    tasks = [f"/proc/{d}" for d in os.listdir("/proc") if d.isdigit()]
    try:
        tasks += [f"/proc/{pid}/task/{t}" for t in os.listdir(f"/proc/{pid}/task")]
    except OSError:
        pass
    for t in tasks:
        try:
            with open(f"{t}/comm") as f:
                if f.read().strip() == want:
                    return True
        except OSError:
            pass
    return False


class GuestCrash(Failed):
    """The guest kernel died or stopped while its VMM kept going: booted again."""


def run_one(name, cmd, size):
    """One boot on a fresh TAP (nothing a previous VMM set on it carries
    over): (guest->host MB/s, host->guest MB/s)."""
    tap_setup()
    socks = [listener(PORT_TO_HOST), listener(PORT_TO_GUEST)]
    g = Guest(cmd)
    try:
        n, up_s = to_host(socks[0], g)
        if n != size:
            raise Failed(f"guest->host: the host got {n} bytes, expected {size}")
        if "vhost=on" in name and not has_vhost_thread(g.p.pid):
            raise Failed("QEMU runs without a vhost worker")
        down_s = to_guest(socks[1], g, size)
        g.stop(120)
        st = g.line("bench-net: to-host status")
        if st is None or not st.endswith(" 0"):
            raise Failed(f"guest->host: the guest's nc said {st!r}")
        got = g.line("bench-net: from-host")
        if got is None or got.split()[-1] != str(size) or " status 0 " not in got:
            raise Failed(f"host->guest: the guest said {got!r}, expected {size} bytes")
        if g.p.returncode != 0:
            raise Failed(f"the VMM exited with status {g.p.returncode}")
        info = (g.line("bench-net: info ") or "")[len("bench-net: info "):]
        # petrel's own counts of the whole run (--stats)
        info += "".join("; " + l[len("petrel: "):] for l in g.lines
                        if l.startswith("petrel: virtio-net 0"))
        # "round-trip min/avg/max = 0.412/0.533/0.951 ms"
        ping = (g.line("bench-net: ping ") or "").split("=")[-1].split("/")
        try:
            rtt = float(ping[1])
        except (IndexError, ValueError):
            raise Failed(f"the guest's ping said {g.line('bench-net: ping ')!r}")
        return (size / up_s / 1e6, size / down_s / 1e6, rtt,
                "; ".join([info] + g.costs))
    except Failed as e:
        if g.alive():
            g.p.kill()
        g.stop(10)
        err = g.line("bench-net: error")
        if g.crashed():
            why = [l.split("] ", 1)[-1] for l in g.lines
                   if "PANIC:" in l or "Kernel panic" in l or " RIP: " in l][:2]
            raise GuestCrash(f"{name}: {e}; the guest: {'; '.join(why)}")
        if ": stalled " in str(e) and g.line("bench-net: ready"):
            raise GuestCrash(f"{name}: {e}; the guest printed nothing more")
        raise Failed(f"{name}: {e}" + (f" ({err})" if err else "") + "\n  console tail:\n" +
                     g.tail())
    finally:
        for s in socks:
            s.close()
        tap_teardown()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--size", type=int, default=64, help="MiB each way (default 64)")
    ap.add_argument("--only", default="", help="comma-separated configs: petrel,off,on")
    ap.add_argument("--wrap", metavar="CMD", default="",
                    help="run each VMM under CMD (e.g. 'perf trace -s -o FILE'; %%s in CMD "
                    "becomes the configuration's name) to see where its time goes")
    ap.add_argument("--exit-reasons", action="store_true",
                    help="count KVM's exits by reason (a trace histogram) for each transfer")
    ap.add_argument("runs", type=int, nargs="?", default=3)
    a = ap.parse_args()
    if os.geteuid() != 0:
        sys.exit("bench/net: needs root (it creates a TAP)")
    if a.exit_reasons:
        kvm_counters()  # mounts debugfs
        with open(os.path.dirname(EXIT_HIST) + "/trigger", "w") as f:
            f.write("hist:keys=exit_reason.hex:size=256\n")
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    build = os.environ.get("PETREL_BUILD", os.path.join(root, "build"))
    if not os.path.isabs(build):
        build = os.path.join(root, build)
    gvars = shell_vars(subprocess.check_output(
        [os.path.join(root, "scripts/guest-initramfs.sh"), build], text=True))
    kvars = shell_vars(subprocess.check_output(
        [os.path.join(root, "scripts/guest-kernel.sh"), "--print-vars",
         os.path.join(build, "guest-cache")], text=True))
    size = a.size << 20

    work = tempfile.mkdtemp(prefix="petrel-bench-net.")  # tmpfs in the lab, not 9p
    kernel = os.path.join(work, "bzImage")
    initrd = os.path.join(work, "initramfs.cpio.gz")
    shutil.copyfile(gvars["KERNEL"], kernel)
    extend_initramfs(gvars["INITRAMFS"], GUEST_SCRIPT.format(
        guest=GUEST_IP, host=HOST_IP, size=size, port_to_host=PORT_TO_HOST,
        port_to_guest=PORT_TO_GUEST), initrd, work)

    mem = "512M"
    petrel = [os.path.join(build, "petrel"), "run", "--kernel", kernel, "--initramfs", initrd,
              "--memory", mem, "--cmdline", "quiet petrel.action=script",
              "--net", f"tap={TAP},mac={MAC}", "--serial", "stdio", "--stats"]

    def qemu(vhost):
        return ["qemu-system-x86_64", "-enable-kvm", "-cpu", "host", "-M", "pc", "-m", mem,
                "-smp", "1", "-nodefaults", "-no-user-config", "-display", "none",
                "-serial", "stdio", "-no-reboot", "-kernel", kernel, "-initrd", initrd,
                "-append", "console=ttyS0 quiet panic=-1 petrel.action=script",
                "-netdev", f"tap,id=n0,ifname={TAP},script=no,downscript=no,vhost={vhost}",
                "-device", f"virtio-net-pci,netdev=n0,mac={MAC}"]

    configs = {"petrel": petrel, "qemu vhost=off": qemu("off"), "qemu vhost=on": qemu("on")}
    if a.only:
        keep = {"petrel": "petrel", "off": "qemu vhost=off", "on": "qemu vhost=on"}
        configs = {keep[k]: configs[keep[k]] for k in a.only.split(",")}
    if a.wrap:
        configs = {k: a.wrap.replace("%s", k.replace(" ", "-")).split() + v
                   for k, v in configs.items()}
    unavailable = {}
    if "qemu vhost=on" in configs:
        why = load_vhost_net(root, kvars)
        if why:
            unavailable["qemu vhost=on"] = why
    failed = dict(unavailable)
    res = {k: [] for k in configs}

    t0 = time.monotonic()
    crashes = {k: 0 for k in configs}
    max_crashes = max(3, a.runs)
    try:
        for i in range(a.runs):
            for name, cmd in configs.items():
                if name in failed:
                    continue
                while True:
                    try:
                        res[name].append(run_one(name, cmd, size))
                    except GuestCrash as e:
                        # seen under every VMM in the lab (nested KVM under TCG):
                        # boot again, within limits
                        crashes[name] += 1
                        print(f"bench/net: run {i + 1}: the guest died; {e}",
                              file=sys.stderr, flush=True)
                        if crashes[name] <= max_crashes:
                            continue
                        failed[name] = f"the guest died {crashes[name]} times"
                    except Failed as e:
                        print(f"bench/net: run {i + 1}: {e}", file=sys.stderr, flush=True)
                        failed[name] = str(e).split("\n")[0]
                    break
                if name in failed:
                    continue
                up, down, rtt, info = res[name][-1]
                print(f"bench/net: run {i + 1} {name}: guest->host {up:.1f} MB/s,"
                      f" host->guest {down:.1f} MB/s, ping {rtt:.3f} ms ({info})",
                      file=sys.stderr, flush=True)
    finally:
        tap_teardown()
        shutil.rmtree(work, ignore_errors=True)

    med = {k: tuple(statistics.median(r[i] for r in v) for i in range(3))
           for k, v in res.items() if v}
    base = med.get("petrel")
    print(f"bench/net: TCP, {a.size} MiB each way per run, {a.runs} runs each, interleaved,"
          f" medians; ratio = config / petrel ({time.monotonic() - t0:.0f}s)")
    print(f"{'config':16} {'guest->host MB/s':>16} {'ratio':>6} {'host->guest MB/s':>16}"
          f" {'ratio':>6} {'ping ms':>8}   runs (g->h / h->g)")
    for k in configs:
        if k in med:
            up, down, rtt = med[k]
            ru = f"{up / base[0]:6.2f}" if base else f"{'-':>6}"
            rd = f"{down / base[1]:6.2f}" if base else f"{'-':>6}"
            runs = " ".join(f"{u:.0f}/{d:.0f}" for u, d, _, _ in res[k])
            note = f"  (then failed: {failed[k]})" if k in failed else ""
            print(f"{k:16} {up:16.1f} {ru} {down:16.1f} {rd} {rtt:8.3f}   {runs}{note}")
        else:
            print(f"{k:16} {'unavailable' if k in unavailable else 'failed'}: {failed[k]}")
    for k in configs:
        if res.get(k) and res[k][0][3]:
            print(f"{k}, run 1: {res[k][0][3]}")
    if any(crashes.values()):
        print("guests that died mid-run (crash or hang; booted again): " +
              ", ".join(f"{k} {v}" for k, v in crashes.items()))
    sys.exit(1 if any(k in failed and k not in unavailable for k in configs) else 0)


main()
