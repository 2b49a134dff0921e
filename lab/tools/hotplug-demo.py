#!/usr/bin/env python3
"""Boot a q35 guest (2 NUMA nodes, -smp 6,maxcpus=8,sockets=2,cores=2,threads=2), hot-add
every free vCPU slot over QMP, then remove them again, and print each VTOPO line and the
latency from the QMP command to the guest's VTOPO-EVENT line. Reference for the Rust tests:
QMP on a unix socket, guest console on stdin/stdout (-serial stdio), commands to the
guest init typed on its console.

Usage: lab/tools/hotplug-demo.py INITRD [KERNEL]
  INITRD must carry an ACPI override that makes the hotpluggable CPUs possible under TCG
  (see lab/tools/q35-hotplug-override.py and docs/lab.md), else device_add is accepted by
  QEMU but the guest cannot map the new CPU.
"""
import json
import os
import select
import socket
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


class Guest:
    def __init__(self, cmd):
        self.t0 = time.monotonic()
        self.p = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                  stderr=subprocess.STDOUT)
        self.buf = b""
        self.lines = []

    def _pump(self, timeout):
        r, _, _ = select.select([self.p.stdout], [], [], timeout)
        if not r:
            return True
        data = os.read(self.p.stdout.fileno(), 65536)
        if not data:
            return False
        self.buf += data
        while b"\n" in self.buf:
            line, self.buf = self.buf.split(b"\n", 1)
            line = line.decode(errors="replace").rstrip("\r")
            print(f"{time.monotonic() - self.t0:7.2f} {line[:300]}", flush=True)
            self.lines.append(line)
        return True

    def wait_line(self, pred, timeout=60.0):
        end = time.monotonic() + timeout
        while True:
            while self.lines:
                line = self.lines.pop(0)
                if pred(line):
                    return line
            if time.monotonic() > end or not self._pump(0.05):
                raise TimeoutError("guest line not seen")

    def send(self, text):
        self.p.stdin.write(text.encode() + b"\n")
        self.p.stdin.flush()


class Qmp:
    def __init__(self, path):
        for _ in range(100):
            try:
                self.s = socket.socket(socket.AF_UNIX)
                self.s.connect(path)
                break
            except OSError:
                time.sleep(0.05)
        self.f = self.s.makefile("rw")
        self.f.readline()
        self.cmd("qmp_capabilities")

    def cmd(self, name, **args):
        msg = {"execute": name}
        if args:
            msg["arguments"] = args
        self.f.write(json.dumps(msg) + "\n")
        self.f.flush()
        while True:
            r = json.loads(self.f.readline())
            if "return" in r:
                return r["return"]
            if "error" in r:
                raise RuntimeError(f"{name}: {r['error']}")


def main():
    if len(sys.argv) not in (2, 3):
        print(__doc__, file=sys.stderr)
        return 2
    initrd = sys.argv[1]
    kernel = sys.argv[2] if len(sys.argv) == 3 else f"{ROOT}/.cache/kernels/amd64/vmlinuz"
    qmp_path = os.path.join(tempfile.mkdtemp(), "qmp.sock")
    cmd = ["timeout", "300", "qemu-system-x86_64", "-accel", "tcg,thread=multi", "-machine", "q35",
           "-cpu", "max", "-m", "1G", "-smp", "6,maxcpus=8,sockets=2,cores=2,threads=2",
           "-object", "memory-backend-ram,id=m0,size=512M",
           "-object", "memory-backend-ram,id=m1,size=512M",
           "-numa", "node,nodeid=0,memdev=m0", "-numa", "node,nodeid=1,memdev=m1",
           "-numa", "cpu,node-id=0,socket-id=0", "-numa", "cpu,node-id=1,socket-id=1",
           "-numa", "dist,src=0,dst=1,val=20",
           "-kernel", kernel, "-initrd", initrd, "-append", "console=ttyS0 panic=-1 quiet",
           "-nodefaults", "-display", "none", "-serial", "stdio", "-no-reboot", "-nic", "none",
           "-qmp", f"unix:{qmp_path},server=on,wait=off"]
    g = Guest(cmd)
    g.wait_line(lambda l: l.startswith("VTOPO-READY"), 120)
    q = Qmp(qmp_path)
    added = []
    for n in range(64):
        free = [c for c in q.cmd("query-hotpluggable-cpus") if "qom-path" not in c]
        if not free:
            break
        slot = free[-1]
        t = time.monotonic()
        q.cmd("device_add", driver=slot["type"], id=f"hp{n}", **slot["props"])
        ev = g.wait_line(lambda l: l.startswith("VTOPO-EVENT") and "event=add:" in l)
        print(f"RESULT add {slot['props']}: VTOPO-EVENT after {time.monotonic() - t:.3f} s: {ev}")
        g.wait_line(lambda l: l.startswith("VTOPO-DMESG"))
        added.append(f"hp{n}")
    for dev in reversed(added):
        t = time.monotonic()
        q.cmd("device_del", id=dev)
        ev = g.wait_line(lambda l: l.startswith("VTOPO-EVENT") and "event=remove:" in l)
        print(f"RESULT remove {dev}: VTOPO-EVENT after {time.monotonic() - t:.3f} s: {ev}")
        g.wait_line(lambda l: l.startswith("VTOPO-DMESG"))
    g.send("report")
    g.wait_line(lambda l: l.startswith("VTOPO-GUEST") and "event=cmd" in l)
    g.send("poweroff")
    try:
        g.p.wait(timeout=30)
    except subprocess.TimeoutExpired:
        g.p.kill()
    while g._pump(0.1):
        if g.p.poll() is not None and not g.buf:
            break
    print(f"RESULT qemu exit status {g.p.returncode}")
    return 0 if g.p.returncode == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
