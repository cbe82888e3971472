#!/usr/bin/env python3
"""The arm64 `postern` under emulation, talking to an amd64 node.

The cross-built binary (aarch64-unknown-linux-gnu) runs under `qemu-aarch64` with Debian's
arm64 libraries (`-L /usr/aarch64-linux-gnu`): it makes a store and two identities, exchanges
cards with an amd64 node, and mail goes both ways over the loopback transport (real SMTP,
OpenPGP, stamps), between a node on each architecture.
Run: python3 tests/arm64/node.py ARM64_POSTERN AMD64_POSTERN
"""

import json
import os
import select
import shutil
import subprocess
import sys
import tempfile
import threading
import time

# The arm64 C library: the cross toolchain's, unless the system has arm64 libraries of its own
# (multiarch, e.g. after `package-deb.sh --arch arm64`). Then those must be used: the loader
# finds them through the system's library cache, and a cross loader with the system's arm64
# libc hangs.
PREFIX = "/" if os.path.exists("/lib/ld-linux-aarch64.so.1") else "/usr/aarch64-linux-gnu"
ARM = [shutil.which("qemu-aarch64") or "qemu-aarch64", "-L", PREFIX, os.path.abspath(sys.argv[1])]
AMD = [os.path.abspath(sys.argv[2])]
ENV = {k: v for k, v in os.environ.items() if not k.startswith("POSTERN_")}
ENV["POSTERN_PASSPHRASE"] = "arm and amd"
ENV["RUST_LOG"] = "warn"
CHECKS = 0


def check(cond, what):
    global CHECKS
    CHECKS += 1
    if not cond:
        raise AssertionError(what)


def postern(binary, d, *args):
    r = subprocess.run([*binary, "--data-dir", d, *args], env=ENV, capture_output=True, text=True)
    if r.returncode != 0:
        raise RuntimeError(f"postern {' '.join(args)}: {r.returncode} {r.stderr}")
    return r.stdout


def until(what, f, seconds=180):
    end = time.time() + seconds
    while True:
        got = f()
        if got:
            return got
        if time.time() > end:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.5)


def start(binary, d, reg):
    # The passphrase on standard input: given in the environment, the node runs itself again
    # without it (exec), which under qemu-user without binfmt cannot start an arm64 program.
    env = {k: v for k, v in ENV.items() if k != "POSTERN_PASSPHRASE"}
    env["POSTERN_PASSPHRASE_STDIN"] = "1"
    p = subprocess.Popen(
        [*binary, "--data-dir", d, "run", "--loopback", reg, "--stamp-bits", "12",
         "--retry-first", "1", "--retry-max", "2"],
        env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
        text=True)
    p.stdin.write(ENV["POSTERN_PASSPHRASE"] + "\n")
    p.stdin.close()
    lines = []
    deadline = time.time() + 120
    while True:
        if not select.select([p.stdout], [], [], max(0, deadline - time.time()))[0]:
            p.kill()
            raise RuntimeError("node did not connect within 120 s: " + "".join(lines))
        line = p.stdout.readline()
        if not line:
            raise RuntimeError("node ended: " + "".join(lines))
        lines.append(line)
        if line.startswith("Connected."):
            break
    threading.Thread(target=lambda: [lines.append(x) for x in p.stdout], daemon=True).start()
    return p


def inbox(binary, d, who):
    return json.loads(postern(binary, d, "list", "-i", who, "-m", "inbox", "--json"))


def run(root, nodes):
    machine = subprocess.run(["file", "-b", ARM[-1]], capture_output=True, text=True).stdout
    check("ARM aarch64" in machine, f"the binary is built for arm64: {machine}")
    reg = os.path.join(root, "registry")
    os.makedirs(reg)
    phone, laptop = os.path.join(root, "arm64"), os.path.join(root, "amd64")
    started = time.time()
    postern(ARM, phone, "init")
    postern(ARM, phone, "identity", "new", "alice", "--display-name", "Alice")
    postern(ARM, phone, "identity", "new", "ally", "--display-name", "Ally")
    ids = json.loads(postern(ARM, phone, "identity", "list", "--json"))
    check(len(ids) == 2, f"two identities on the arm64 store: {ids}")
    postern(AMD, laptop, "init")
    postern(AMD, laptop, "identity", "new", "bob", "--display-name", "Bob")
    print(f"arm64: store and identities made under emulation in {time.time() - started:.1f} s")

    cards = {}
    for binary, d, who in ((ARM, phone, "alice"), (AMD, laptop, "bob")):
        f = os.path.join(root, who + ".card")
        with open(f, "w") as fh:
            fh.write(postern(binary, d, "identity", "export-card", who))
        cards[who] = f
    postern(ARM, phone, "contact", "add", "-i", "alice", "--file", cards["bob"])
    postern(AMD, laptop, "contact", "add", "-i", "bob", "--file", cards["alice"])
    alice = next(i["address"] for i in ids if i["address"].startswith("alice@"))
    bob = json.loads(postern(AMD, laptop, "identity", "list", "--json"))[0]["address"]

    nodes.append(start(ARM, phone, reg))
    nodes.append(start(AMD, laptop, reg))
    sent = time.time()
    postern(ARM, phone, "send", "--from", "alice", "--to", bob, "--subject", "From arm64",
            "--body", "Written on a phone's architecture.")
    got = until("the arm64 node's mail at the amd64 node", lambda: inbox(AMD, laptop, "bob"))
    check(got[0]["subject"] == "From arm64", f"bob got alice's mail: {got}")
    check(alice in json.dumps(got), f"from alice: {got}")
    print(f"arm64 -> amd64: delivered in {time.time() - sent:.1f} s")
    sent = time.time()
    postern(AMD, laptop, "send", "--from", "bob", "--to", alice, "--subject", "From amd64",
            "--body", "And back.")
    got = until("the amd64 node's mail at the arm64 node", lambda: inbox(ARM, phone, "alice"))
    check(got[0]["subject"] == "From amd64", f"alice got bob's mail: {got}")
    text = postern(ARM, phone, "read", str(got[0]["id"]))
    check("And back." in text, f"the arm64 node decrypts and shows it: {text}")
    print(f"amd64 -> arm64: delivered in {time.time() - sent:.1f} s")


def main():
    root = tempfile.mkdtemp(prefix="postern-arm64-")
    nodes = []
    try:
        run(root, nodes)
    finally:
        for p in nodes:
            p.terminate()
            try:
                p.wait(20)
            except subprocess.TimeoutExpired:
                p.kill()
        shutil.rmtree(root, ignore_errors=True)
    print(f"arm64 node: {CHECKS} checks passed")


if __name__ == "__main__":
    main()
