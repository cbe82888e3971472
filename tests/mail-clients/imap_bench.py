#!/usr/bin/env python3
"""Benchmark: Postern's IMAP server vs Dovecot on the same 10,000 messages, side by side.

One Postern node (loopback transport) serves a mailbox of N messages over IMAP; Debian's Dovecot,
started with its own configuration in a temporary directory, holds the same N messages (copied
byte for byte as Postern serves them, into the same mailbox). Measured on each, alternating:
`UID FETCH 1:* (FLAGS BODY.PEEK[HEADER])`, a full `mbsync` into an empty Maildir, and how long an
idling client waits to hear of a new message. Run: scripts/bench.sh imap [N]
"""

import imaplib
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from dovecot import Dovecot, free_port  # noqa: E402

BIN = os.path.abspath(sys.argv[1])
N = int(sys.argv[2]) if len(sys.argv) > 2 else 10_000
ENV = {k: v for k, v in os.environ.items() if not k.startswith("POSTERN_")}
ENV["POSTERN_PASSPHRASE"] = "bench"
ENV["RUST_LOG"] = "warn"
BOX = "Drafts"  # the one mailbox a client may fill with APPEND


def postern(d, *args):
    r = subprocess.run([BIN, "--data-dir", d, *args], env=ENV, capture_output=True, text=True)
    if r.returncode != 0:
        raise RuntimeError(f"postern {' '.join(args)}: {r.stderr}")
    return r.stdout


def message(i):
    body = ("Line of a message body, long enough to look like mail people write. " * 4 + "\r\n") * 20
    return (f"From: me@example.onion\r\nTo: friend{i % 50}@example.onion\r\n"
            f"Subject: Message number {i} about the harbour plans\r\n\r\n{body}").encode()


def timed(f):
    t = time.perf_counter()
    f()
    return time.perf_counter() - t


def uid_fetch(port, user, pw):
    m = imaplib.IMAP4("127.0.0.1", port)
    m.login(user, pw)
    m.select(BOX, readonly=True)
    typ, data = m.uid("FETCH", "1:*", "(FLAGS BODY.PEEK[HEADER])")
    got = sum(1 for x in data if isinstance(x, tuple))
    m.logout()
    if got != N:
        raise AssertionError(f"UID FETCH returned {got} of {N}")


def mbsync(root, port, user, pw, name):
    maildir = os.path.join(root, f"maildir-{name}")
    shutil.rmtree(maildir, ignore_errors=True)
    os.makedirs(maildir)
    rc = os.path.join(root, f"mbsyncrc-{name}")
    with open(rc, "w") as f:
        f.write(f"IMAPAccount a\nHost 127.0.0.1\nPort {port}\nUser {user}\nPass {pw}\nSSLType None\n"
                f"AuthMechs PLAIN\n\nIMAPStore r\nAccount a\n\nMaildirStore l\nPath {maildir}/\n"
                f"Inbox {maildir}/INBOX\nSubFolders Verbatim\n\nChannel c\nFar :r:\nNear :l:\n"
                f"Patterns {BOX}\nCreate Near\nSync Pull\nSyncState *\n")

    def run():
        r = subprocess.run(["mbsync", "-q", "-c", rc, "-a"], capture_output=True, text=True)
        if r.returncode != 0:
            raise RuntimeError(f"mbsync {name}: {r.stderr}")
    t = timed(run)
    files = sum(len(fs) for dp, _, fs in os.walk(os.path.join(maildir, BOX)) if dp.endswith("cur") or dp.endswith("new"))
    if files != N:
        raise AssertionError(f"mbsync {name}: {files} of {N}")
    return t


def idle_wait(port, user, pw, add):
    """Seconds from a message stored (by another connection) to the idling client told."""
    m = imaplib.IMAP4("127.0.0.1", port)
    m.login(user, pw)
    m.select(BOX)
    tag = m._new_tag()
    m.send(tag + b" IDLE\r\n")
    assert m.readline().startswith(b"+")
    m.socket().settimeout(30)
    add()
    stored = time.perf_counter()
    while b"EXISTS" not in m.readline():
        pass
    waited = time.perf_counter() - stored
    m.send(b"DONE\r\n")
    while not m.readline().startswith(tag):
        pass
    m.logout()
    return waited


def appender(port, user, pw):
    def add():
        m = imaplib.IMAP4("127.0.0.1", port)
        m.login(user, pw)
        m.append(BOX, None, None, message(0))
        m.logout()
    return add


def start_node(d, reg, port):
    node = subprocess.Popen([BIN, "--data-dir", d, "run", "--loopback", reg, "--imap-port", str(port)],
                            env=ENV, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    while not node.stdout.readline().startswith("Connected."):
        pass
    threading.Thread(target=lambda: [None for _ in node.stdout], daemon=True).start()
    return node


def main():
    root = tempfile.mkdtemp(prefix="postern-imap-bench-")
    node = dove = None
    try:
        d = os.path.join(root, "postern")
        reg = os.path.join(root, "registry")
        os.makedirs(reg)
        postern(d, "init")
        postern(d, "identity", "new", "me")
        port = free_port()
        node = start_node(d, reg, port)
        login = postern(d, "imap", "-i", "me", "--rotate")
        user = next(l.split()[1] for l in login.splitlines() if l.startswith("User:"))
        pw = next(l.split()[1] for l in login.splitlines() if l.startswith("Password:"))

        t = time.perf_counter()
        m = imaplib.IMAP4("127.0.0.1", port)
        m.login(user, pw)
        for i in range(N):
            m.append(BOX, None, None, message(i))
        fill = time.perf_counter() - t
        m.logout()
        # First listing: nothing of this mail was ever served, so every header is built (and
        # then kept).
        first = timed(lambda: uid_fetch(port, user, pw))
        m = imaplib.IMAP4("127.0.0.1", port)
        m.login(user, pw)
        # The same bytes into Dovecot, as Postern serves them.
        m.select(BOX, readonly=True)
        typ, data = m.uid("FETCH", "1:*", "(BODY.PEEK[])")
        served = [x[1] for x in data if isinstance(x, tuple)]
        m.logout()
        dove = Dovecot(root)
        dm = imaplib.IMAP4("127.0.0.1", dove.port)
        dm.login(Dovecot.USER, Dovecot.PASSWORD)
        for b in served:
            dm.append(BOX, None, None, b)
        dm.logout()
        print(f"imap bench: {N} messages ({sum(map(len, served)) / 1e6:.1f} MB as served); "
              f"filling Postern by APPEND took {fill:.1f} s")

        rows = [("UID FETCH, first listing (never served)", first,
                 timed(lambda: uid_fetch(dove.port, Dovecot.USER, Dovecot.PASSWORD)))]
        # Cold: a node just started has nothing of the mailbox in memory; what it kept at rest
        # (served headers) it reads back, as Dovecot reads its on-disk cache.
        node.terminate()
        node.wait(10)
        node = start_node(d, reg, port)
        rows.append(("UID FETCH, Postern just started (cold)", timed(lambda: uid_fetch(port, user, pw)),
                     timed(lambda: uid_fetch(dove.port, Dovecot.USER, Dovecot.PASSWORD))))
        pf, df = [], []
        for _ in range(5):
            pf.append(timed(lambda: uid_fetch(port, user, pw)))
            df.append(timed(lambda: uid_fetch(dove.port, Dovecot.USER, Dovecot.PASSWORD)))
        rows.append(("UID FETCH 1:* (FLAGS BODY.PEEK[HEADER])", statistics.median(pf), statistics.median(df)))
        ps, ds = [], []
        for _ in range(3):
            ps.append(mbsync(root, port, user, pw, "postern"))
            ds.append(mbsync(root, dove.port, Dovecot.USER, Dovecot.PASSWORD, "dovecot"))
        rows.append(("mbsync full sync", statistics.median(ps), statistics.median(ds)))
        pi, di = [], []
        for _ in range(5):
            pi.append(idle_wait(port, user, pw, appender(port, user, pw)))
            di.append(idle_wait(dove.port, Dovecot.USER, Dovecot.PASSWORD,
                                appender(dove.port, Dovecot.USER, Dovecot.PASSWORD)))
        rows.append(("IDLE: stored -> client told", statistics.median(pi), statistics.median(di)))
        print(f"{'':44} {'Postern':>10} {'Dovecot':>10} {'ratio':>7}   (median of 5, 3 for mbsync)")
        for name, p, dv in rows:
            print(f"{name:44} {p * 1000:>8.0f}ms {dv * 1000:>8.0f}ms {p / dv:>6.2f}x")
        print(f"IDLE worst of 5: Postern {max(pi) * 1000:.0f} ms, Dovecot {max(di) * 1000:.0f} ms")
    finally:
        if node:
            node.terminate()
            node.wait(10)
        if dove:
            dove.stop()
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
