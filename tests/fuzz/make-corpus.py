#!/usr/bin/env python3
# Write the seed corpora in tests/fuzz/corpus/<target>/ from the requests,
# bodies and packets of petrel's unit tests, plus a few malformed ones.
# Files are named by content; inputs libFuzzer found (crashes) sit beside them.
import hashlib
import os
import struct

HERE = os.path.dirname(os.path.abspath(__file__))

FC_PATHS = ["/", "/version", "/machine-config", "/boot-source", "/drives/rootfs",
            "/drives/scratch", "/drives/", "/network-interfaces/eth0",
            "/network-interfaces/eth1", "/entropy", "/serial", "/logger", "/metrics",
            "/actions", "/vm", "/vm/config", "/mmds", "/balloon", "/snapshot/create",
            "/cpu-config", "/vsock"]
CH_PATHS = ["/api/v1/vmm.ping", "/api/v1/vmm.shutdown", "/api/v1/vm.create",
            "/api/v1/vm.info", "/api/v1/vm.counters", "/api/v1/vm.boot", "/api/v1/vm.pause",
            "/api/v1/vm.resume", "/api/v1/vm.shutdown", "/api/v1/vm.reboot",
            "/api/v1/vm.power-button", "/api/v1/vm.delete", "/api/v1/vm.nmi",
            "/api/v1/vm.add-disk", "/api/v1/vm.add-net", "/api/v1/vm.resize",
            "/api/v1/vm.snapshot", "/api/v1/"]
METHODS = ["GET", "PUT", "PATCH", "POST", "DELETE", "HEAD", "get", ""]


def req(paths, method, path, body=""):
    """One request as fuzz_api_next_request reads it."""
    b = body.encode()
    out = bytes([METHODS.index(method)])
    if path in paths:
        out += bytes([paths.index(path)])
    else:
        p = path.encode()
        out += bytes([255, len(p)]) + p
    return out + struct.pack("<H", len(b)) + b


def write(target, data):
    d = os.path.join(HERE, "corpus", target)
    os.makedirs(d, exist_ok=True)
    name = "seed-" + hashlib.sha1(data).hexdigest()[:16]
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def fc(*reqs, flags=0, config=None):
    out = bytes([flags | (2 if config is not None else 0)])
    if config is not None:
        c = config.encode()
        out += struct.pack("<H", len(c)) + c
    return out + b"".join(req(FC_PATHS, *r) for r in reqs)


def ch(*reqs, flags=0):
    return bytes([flags]) + b"".join(req(CH_PATHS, *r) for r in reqs)


BOOT = ("PUT", "/boot-source", '{"kernel_image_path": "@K@", "initrd_path": "@I@", '
        '"boot_args": "console=ttyS0 reboot=k"}')
ROOT = ("PUT", "/drives/rootfs",
        '{"drive_id": "rootfs", "path_on_host": "@D0@", "is_root_device": true, '
        '"partuuid": "0eaa91a0-01", "cache_type": "Writeback", "io_engine": "Async", '
        '"rate_limiter": {"bandwidth": {"size": 1048576, "refill_time": 100}, '
        '"ops": {"size": 100, "one_time_burst": 10, "refill_time": 1000}}}')
DATA = ("PUT", "/drives/scratch",
        '{"drive_id": "scratch", "path_on_host": "@D1@", "is_root_device": false, '
        '"is_read_only": true, "cache_type": "Unsafe", "io_engine": "Sync", "rate_limiter": null}')
NET = ("PUT", "/network-interfaces/eth0",
       '{"iface_id": "eth0", "host_dev_name": "tap0", "guest_mac": "AA:bb:cc:dd:EE:02", '
       '"rx_rate_limiter": {"ops": {"size": 1, "refill_time": 1}}, "tx_rate_limiter": {}}')
MACHINE = ("PUT", "/machine-config",
           '{"vcpu_count": 2, "mem_size_mib": 256, "smt": true, "track_dirty_pages": true}')
START = ("PUT", "/actions", '{"action_type": "InstanceStart"}')
GOOD_CONFIG = (
    '{"boot-source": {"kernel_image_path": "@K@", "boot_args": "console=ttyS0"},'
    ' "drives": [{"drive_id": "rootfs", "path_on_host": "@D0@", "is_root_device": true},'
    '  {"drive_id": "data", "path_on_host": "@D1@", "is_root_device": false,'
    '   "is_read_only": true}],'
    ' "machine-config": {"vcpu_count": 2, "mem_size_mib": 256, "smt": false},'
    ' "network-interfaces": [{"iface_id": "eth0", "host_dev_name": "tap0",'
    '   "guest_mac": "02:00:00:00:00:07"}],'
    ' "entropy": {}, "logger": {"level": "Info", "log_path": "/tmp/petrel-fuzz.log"},'
    ' "metrics": {"metrics_path": "/tmp/petrel-fuzz.metrics"},'
    ' "serial": {"serial_out_path": "/tmp/petrel-fc-serial.log"},'
    ' "balloon": null, "vsock": null, "pmem": []}')

write("fuzz_fc_api", fc(("GET", "/"), ("GET", "/version"), ("GET", "/machine-config")))
write("fuzz_fc_api", fc(MACHINE, ("PATCH", "/machine-config", '{"mem_size_mib": 512}'),
                        ("PATCH", "/machine-config", '{"smt": false, "vcpu_count": 3}'),
                        ("PUT", "/machine-config",
                         '{"vcpu_count": 1, "mem_size_mib": 32, "cpu_template": null}')))
write("fuzz_fc_api", fc(BOOT, ROOT, DATA, NET, ("PUT", "/entropy", "{}"), START,
                        ("PATCH", "/vm", '{"state": "Paused"}'),
                        ("PATCH", "/vm", '{"state": "Resumed"}'),
                        ("PATCH", "/drives/scratch",
                         '{"drive_id": "scratch", "path_on_host": "@D0@"}'),
                        ("GET", "/vm/config"),
                        ("PUT", "/actions", '{"action_type": "SendCtrlAltDel"}')))
write("fuzz_fc_api", fc(BOOT, START, flags=1))
write("fuzz_fc_api", fc(("PUT", "/logger",
                         '{"level": "Warning", "show_level": true, "show_log_origin": false, '
                         '"module": "api_server", "log_path": "/tmp/petrel-fuzz.log"}'),
                        ("PUT", "/logger", '{"level": "Info"}'),
                        ("PUT", "/actions", '{"action_type": "FlushMetrics"}'),
                        ("PUT", "/metrics", '{"metrics_path": "/tmp/m", "emit_id": false}'),
                        ("PUT", "/actions", '{"action_type": "FlushMetrics"}')))
write("fuzz_fc_api", fc(("PUT", "/serial", '{"serial_out_path": "/tmp/petrel-fc-serial.log"}'),
                        ("PUT", "/serial", '{"rate_limiter": {"size": 10, "refill_time": 10}}'),
                        ("PUT", "/network-interfaces/eth1",
                         '{"iface_id": "eth1", "host_dev_name": "tap1", "mtu": null}')))
write("fuzz_fc_api", fc(("GET", "/vm/config"), config=GOOD_CONFIG))
write("fuzz_fc_api", fc(START, config='{"boot-source": {}, "drives": []}'))
write("fuzz_fc_api", fc(config='{"boot-source": null, "drives": [], "x": 1}'))
# malformed
write("fuzz_fc_api", fc(("PUT", "/machine-config", '{"vcpu_count": '),
                        ("PUT", "/drives/bad-id", '{"drive_id": "bad-id"}'),
                        ("GET", "/version", "{}"), ("PUT", "/actions", ""),
                        ("DELETE", "/drives/rootfs"), ("PUT", "/\xff\x00", '{"a": 1, "a": 2}')))

VMCFG = ('{"cpus": {"boot_vcpus": 2, "max_vcpus": 2},'
         ' "memory": {"size": 268435456, "shared": false, "hugepages": false},'
         ' "payload": {"kernel": "@K@", "initramfs": "@I@", "cmdline": "console=hvc0 quiet"},'
         ' "disks": [{"path": "@D0@", "readonly": true},'
         ' {"path": "@D1@", "direct": true, "id": "data", "serial": "SN1"}],'
         ' "net": [{"tap": "tap0", "mac": "52:54:00:ab:cd:ef", "id": "net-a"}, {"tap": "tap1"}],'
         ' "rng": {"src": "/dev/urandom"},'
         ' "serial": {"mode": "Null"}, "console": {"mode": "Tty"}}')
CREATE = ("PUT", "/api/v1/vm.create", VMCFG)
write("fuzz_ch_api", ch(("GET", "/api/v1/vmm.ping"), ("GET", "/api/v1/vm.info")))
write("fuzz_ch_api", ch(CREATE, ("PUT", "/api/v1/vm.boot"), ("GET", "/api/v1/vm.info"),
                        ("GET", "/api/v1/vm.counters"), ("PUT", "/api/v1/vm.pause"),
                        ("PUT", "/api/v1/vm.resume"), ("PUT", "/api/v1/vm.reboot"),
                        ("PUT", "/api/v1/vm.power-button"), ("PUT", "/api/v1/vm.shutdown"),
                        ("PUT", "/api/v1/vm.boot"), ("PUT", "/api/v1/vm.delete"),
                        ("PUT", "/api/v1/vmm.shutdown")))
write("fuzz_ch_api", ch(CREATE, ("PUT", "/api/v1/vm.boot"), flags=1))
write("fuzz_ch_api", ch(("PUT", "/api/v1/vm.create",
                         '{"payload": {"kernel": "@K@"}, "serial": {"mode": "File", '
                         '"file": "/tmp/petrel-fuzz-serial"}, "console": {"mode": "Off"}}')))
for bad in ['{"cpus": ', '{"cpus": {"boot_vcpus": "2", "max_vcpus": 2}}',
            '{"memory": {"size": -1}}', '{"memory": {"size": 1.5}}',
            '{"payload": {"kernel": "@K@"}, "disks": {"path": "/x"}}', '{"a": 1, "a": 2}',
            '{"payload": {"kernel": "a\\u0000b"}}', '{"net": [{"tap": "t", "fds": 3}]}',
            '{"payload": {"kernel": "@K@"}, "cpus": 4}', '{}']:
    write("fuzz_ch_api", ch(("PUT", "/api/v1/vm.create", bad)))
write("fuzz_ch_api", ch(("PUT", "/api/v1/vm.boot", "{}"), ("POST", "/api/v1/vm.pause"),
                        ("PUT", "/api/v1/vm.snapshot", '{"destination_url": "x"}'),
                        ("PUT", "/api/v1/vm.add-disk", '{"path": "/x"}'),
                        ("GET", "/api/v1/vm.nope"), ("PUT", "/api/v2/vm.info")))


def gdb_packet(payload):
    return b"$" + payload + b"#%02x" % (sum(payload) & 0xff)


for pkts in [[b"qSupported:multiprocess+;swbreak+;hwbreak+;xmlRegisters=i386", b"?", b"g"],
             [b"m1000,4", b"M1000,4:deadbeef", b"X1000,2:a}\x04"],
             [b"Z0,ffffffff81000000,1", b"z0,ffffffff81000000,1", b"Z1,10,1;X2,0a",
              b"Z2,2000,8"],
             [b"Hgp1.2", b"Hc-1", b"Tp1.1", b"vCont;s:1;c", b"vCont;C05:p1.2;S0b;t:-1",
              b"vCont?"],
             [b"qfThreadInfo", b"qsThreadInfo", b"qXfer:features:read:target.xml:0,fff",
              b"D"]]:
    write("fuzz_gdb_proto", b"+" + b"".join(gdb_packet(p) for p in pkts) + b"\x03-")
write("fuzz_gdb_proto", b"$OK#9b$OK#zz$a}#00$garbage$OK#9a$k#6B")
write("fuzz_gdb_proto", b"$m10000000000000000,1#00" + gdb_packet(b"m10,4x") + b"$" + b"A" * 64)

for kind, specs in [(0, ["path=/tmp/disk.img", "path=a.img,readonly=on,direct=off,serial=SN-1",
                         "path=x,serial=123456789012345678901", "readonly=on", "path=,",
                         "path=a,readonly=on,readonly=off", "path=a,,direct=yes"]),
                    (1, ["tap=tap0", "tap=tap1,mac=52:54:00:ab:cd:ef", "tap=..",
                         "tap=a/b", "tap=tap0,mac=01:00:00:00:00:01", "tap=0123456789abcdef",
                         "mac=00:00:00:00:00:00,tap=t"]),
                    (2, ["52:54:00:ab:cd:ef", "AA:bb:cc:dd:EE:02", "52:54:00:ab:cd", "zz"]),
                    (3, ["256M", "1G", "65536K", "1048576", "0", "18446744073709551616",
                         "16E", "1T", "-1", " 1M"]),
                    (5, ["stdio", "off", "file=/tmp/serial.log", "file=", "tty"])]:
    for s in specs:
        write("fuzz_cli_specs", bytes([kind]) + s.encode())
for rng, s in [(b"\x01\x01", "2"), (b"\x01\x00", "0"), (b"\x00\xff", "4294967296"),
               (b"\x01\x01", "12x"), (b"\x00\x01", "")]:
    write("fuzz_cli_specs", bytes([4]) + rng + s.encode())
