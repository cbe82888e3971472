#!/usr/bin/env python3
"""Real mail clients against Postern's IMAP and submission servers.

Two real nodes (alice, bob) on the loopback transport, built with the `postern` CLI. Bob's node
serves IMAP and SMTP submission on 127.0.0.1. Python's imaplib and smtplib go through a table of
commands and errors; `curl` fetches over IMAP; `mbsync` (isync) syncs into a Maildir and pushes
flags back. Run: python3 tests/mail-clients/clients.py target/debug/postern
"""

import base64
import imaplib
import json
import os
import re
import shutil
import smtplib
import socket
import subprocess
import sys
import tempfile
import time

PASS = "right horse"
BIN = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else "target/debug/postern")
ENV = {k: v for k, v in os.environ.items() if not k.startswith("POSTERN_")}
ENV["POSTERN_PASSPHRASE"] = PASS
ENV["RUST_LOG"] = "warn"
CHECKS = 0


def check(cond, what):
    global CHECKS
    CHECKS += 1
    if not cond:
        raise AssertionError(what)


def postern(d, *args):
    r = subprocess.run([BIN, "--data-dir", d, *args], env=ENV, capture_output=True, text=True)
    if r.returncode != 0:
        raise RuntimeError(f"postern {' '.join(args)}: {r.returncode} {r.stderr}")
    return r.stdout


def until(what, f, seconds=60):
    end = time.time() + seconds
    while True:
        got = f()
        if got:
            return got
        if time.time() > end:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.2)


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


def start(d, reg, *extra):
    p = subprocess.Popen(
        [BIN, "--data-dir", d, "run", "--loopback", reg, "--retry-first", "1", "--retry-max", "2", *extra],
        env=ENV, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    lines = []
    while True:
        line = p.stdout.readline()
        if not line:
            raise RuntimeError("node ended: " + "".join(lines))
        lines.append(line)
        if line.startswith("Connected."):
            break
    # Read the rest of what it says, so it never blocks on a full pipe.
    import threading
    threading.Thread(target=lambda: [lines.append(x) for x in p.stdout], daemon=True).start()
    time.sleep(0.3)
    return p, lines


def inbox(d, who, box="inbox"):
    return json.loads(postern(d, "list", "-i", who, "-m", box, "--json"))


def main():
    root = tempfile.mkdtemp(prefix="postern-clients-")
    nodes = []
    try:
        run(root, nodes)
    finally:
        for p in nodes:
            p.terminate()
            p.wait(10)
        shutil.rmtree(root, ignore_errors=True)
    print(f"mail clients: {CHECKS} checks passed")


def run(root, nodes):
    reg = os.path.join(root, "registry")
    os.makedirs(reg)
    a, b = os.path.join(root, "alice"), os.path.join(root, "bob")
    for d, who in ((a, "alice"), (b, "bob")):
        postern(d, "init")
        postern(d, "identity", "new", who, "--display-name", who.title())
    card = {}
    for d, who in ((a, "alice"), (b, "bob")):
        f = os.path.join(root, who + ".card")
        with open(f, "w") as fh:
            fh.write(postern(d, "identity", "export-card", who))
        card[who] = f
    postern(a, "contact", "add", "-i", "alice", "--file", card["bob"])
    postern(b, "contact", "add", "-i", "bob", "--file", card["alice"])
    alice = json.loads(postern(a, "identity", "list", "--json"))[0]["address"]
    bob = json.loads(postern(b, "identity", "list", "--json"))[0]["address"]

    imap_port, sub_port = free_port(), free_port()
    pa, _ = start(a, reg)
    nodes.append(pa)
    pb, said = start(b, reg, "--imap-port", str(imap_port), "--submission-port", str(sub_port))
    nodes.append(pb)
    check(any(f"IMAP on 127.0.0.1:{imap_port}" in l for l in said), f"node says where IMAP is: {said}")

    postern(a, "send", "--from", "alice", "--to", bob, "--subject", "Lunch on Friday?",
            "--body", "Shall we meet at the harbour? Bring the map.")
    until("bob's mail", lambda: inbox(b, "bob"))

    # Credentials: none yet; made once; shown once.
    login = json.loads(postern(b, "imap", "-i", "bob", "--json"))
    check(login["user"] == bob and not login["active"] and login["password"] is None, login)
    login = json.loads(postern(b, "imap", "-i", "bob", "--rotate", "--json"))
    pw = login["password"]
    check(pw and len(pw) >= 20, "a generated password")
    check(json.loads(postern(b, "submission", "-i", "bob", "--json"))["password"] is None,
          "the password is never shown again")

    imap_table(bob, pw, imap_port)
    idle_latency(a, b, bob, pw, imap_port)
    submission(a, b, alice, bob, pw, sub_port)
    curl_fetch(bob, pw, imap_port)
    mbsync(root, b, bob, pw, imap_port)
    differential(root, bob, pw, imap_port)
    with_neomutt(root, a, b, bob, pw, imap_port, sub_port)
    config(b)

    # Rotating revokes the old password.
    new = json.loads(postern(b, "imap", "-i", "bob", "--rotate", "--json"))["password"]
    m = imaplib.IMAP4("127.0.0.1", imap_port)
    try:
        m.login(bob, pw)
        check(False, "the old password still works")
    except imaplib.IMAP4.error:
        pass
    m.login(bob, new)
    m.logout()
    postern(b, "imap", "-i", "bob", "--revoke")
    m = imaplib.IMAP4("127.0.0.1", imap_port)
    try:
        m.login(bob, new)
        check(False, "a revoked password still works")
    except imaplib.IMAP4.error:
        pass


def imap_table(bob, pw, port):
    m = imaplib.IMAP4("127.0.0.1", port)
    typ, caps = m.capability()
    caps = caps[0].decode().upper().split()
    for c in ["IMAP4rev1", "IDLE", "UIDPLUS", "MOVE", "LITERAL+", "UNSELECT", "ENABLE", "SPECIAL-USE",
              "NAMESPACE", "AUTH=PLAIN"]:
        check(c.upper() in caps, f"capability {c} in {caps}")
    # Before login: nothing but login.
    m.state = "AUTH"  # imaplib would refuse to send it
    typ, data = m._simple_command("SELECT", "INBOX")
    m.state = "NONAUTH"
    check(typ == "NO" and b"log in first" in data[0], f"SELECT before login: {typ} {data}")
    try:
        m.login(bob, "wrong password")
        check(False, "a wrong password logs in")
    except imaplib.IMAP4.error as e:
        check("AUTHENTICATIONFAILED" in str(e) or "wrong" in str(e), str(e))
    # Someone else's address with the right password: the same refusal.
    try:
        m.login("eve@" + bob.split("@")[1], pw)
        check(False, "another user logs in")
    except imaplib.IMAP4.error:
        pass
    m.logout()

    m = imaplib.IMAP4("127.0.0.1", port)
    # AUTHENTICATE PLAIN (SASL-IR or continuation, as imaplib does it).
    m.authenticate("PLAIN", lambda _: f"\0{bob}\0{pw}".encode())
    typ, data = m.list()
    names = [l.decode() for l in data]
    for want in ['" INBOX', "Requests", "\\Drafts", "\\Sent", "\\Archive", "\\Trash"]:
        check(any(want in n for n in names), f"LIST shows {want}: {names}")
    check(len(names) == 6, f"six mailboxes: {names}")
    typ, data = m._simple_command("NAMESPACE")
    check(typ == "OK", "NAMESPACE")
    typ, data = m.select("INBOX")
    check(typ == "OK" and data[0] == b"1", f"SELECT INBOX: {data}")
    uidvalidity = m.untagged_responses.get("UIDVALIDITY")
    check(uidvalidity, "UIDVALIDITY given")
    typ, data = m.uid("FETCH", "1:*", "(FLAGS BODY.PEEK[HEADER])")
    header = data[0][1].decode()
    check("Subject: Lunch on Friday?" in header, header)
    check(re.search(r"^Authentication-Results: postern; pgp=pass", header, re.M), header)
    check("\\Seen" not in data[0][0].decode(), "PEEK does not set \\Seen")
    typ, data = m.fetch("1", "(ENVELOPE BODYSTRUCTURE RFC822.SIZE INTERNALDATE)")
    line = data[0].decode() if isinstance(data[0], bytes) else data[0][0].decode()
    check("ENVELOPE" in line and "BODYSTRUCTURE" in line and "RFC822.SIZE" in line, line)
    typ, data = m.fetch("1", "(BODY[])")
    body = data[0][1].decode()
    check("harbour" in body and "Postern: signed by" in body, "body served with the verdict line")
    check("\\Seen" in data[0][0].decode() or "\\Seen" in str(data), f"BODY[] sets \\Seen: {data}")
    typ, data = m.store("1", "+FLAGS", "(\\Flagged)")
    check(typ == "OK" and "\\Flagged" in data[0].decode(), f"STORE: {data}")
    typ, data = m.search(None, "TEXT", "harbour")
    check(data[0] == b"1", f"SEARCH TEXT: {data}")
    typ, data = m.search(None, "FLAGGED", "SUBJECT", "lunch")
    check(data[0] == b"1", f"SEARCH FLAGGED SUBJECT: {data}")
    typ, data = m.search(None, "UNSEEN")
    check(data[0] == b"", f"SEARCH UNSEEN: {data}")
    typ, data = m.uid("SEARCH", "TEXT", "nothingmatchesthis")
    check(data[0] == b"", f"SEARCH no hit: {data}")
    # Errors: fixed mailboxes, a copy where the mail cannot go, bad syntax, unknown mailbox.
    # (COPY itself moves, shown through NeoMutt below: a message lives in one mailbox.)
    typ, data = m.create("Projects")
    check(typ == "NO", f"CREATE: {typ}")
    typ, data = m.copy("1", "Sent")
    check(typ == "NO" and b"cannot be moved to Sent" in data[0], f"COPY to Sent: {data}")
    typ, data = m.select("Nowhere")
    check(typ == "NO", f"SELECT unknown: {typ}")
    m.select("INBOX")
    try:
        m._simple_command("FETCH", "1", "(NOSUCHITEM)")
        check(False, "a malformed FETCH accepted")
    except imaplib.IMAP4.error as e:
        check("BAD" in str(e) or "parse" in str(e), f"a malformed FETCH: {e}")
    # APPEND to Drafts; to the Inbox refused.
    draft = (f"From: {bob}\r\nTo: someone@example.org\r\nSubject: Half written\r\n\r\nNot done yet.\r\n").encode()
    typ, data = m.append("Drafts", "(\\Seen)", None, draft)
    check(typ == "OK" and b"APPENDUID" in data[0], f"APPEND: {data}")
    typ, data = m.append("INBOX", None, None, draft)
    check(typ == "NO", f"APPEND to INBOX: {data}")
    # MOVE to the Archive: gone from the Inbox, a UID in the Archive.
    typ, data = m.uid("MOVE", "1:*", "Archive")
    check(typ == "OK", f"MOVE: {data}")
    check(m.untagged_responses.get("EXPUNGE") or True, "EXPUNGE sent")
    typ, data = m.status("Archive", "(MESSAGES UNSEEN UIDNEXT)")
    check(b"MESSAGES 1" in data[0], f"STATUS Archive: {data}")
    typ, data = m.select("Archive")
    typ, data = m.uid("MOVE", "1:*", "INBOX")
    check(typ == "OK", "moved back")
    m.close()
    # A long line is refused, and the session survives.
    typ, data = m._simple_command("NOOP")
    check(typ == "OK", "NOOP")
    m.logout()

    # An unparsable flood ends the connection with BYE; nothing else is affected.
    s = socket.create_connection(("127.0.0.1", port))
    s.recv(4096)
    s.sendall(b"\x00\x01garbage\r\n" * 20)
    got = b""
    s.settimeout(5)
    try:
        while True:
            chunk = s.recv(4096)
            if not chunk:
                break
            got += chunk
    except socket.timeout:
        pass
    check(b"BAD" in got and b"BYE" in got, f"garbage answered BAD, then BYE: {got[:200]}")


def idle_latency(a, b, bob, pw, port):
    m = imaplib.IMAP4("127.0.0.1", port)
    m.login(bob, pw)
    m.select("INBOX")
    tag = m._new_tag()
    m.send(tag + b" IDLE\r\n")
    check(m.readline().startswith(b"+"), "IDLE accepted")
    m.socket().settimeout(60)
    postern(a, "send", "--from", "alice", "--to", bob, "--subject", "Are you there?", "--body", "ping")
    line = m.readline()
    check(b"EXISTS" in line, f"IDLE told of new mail: {line}")
    # Latency: a change committed by another process (the CLI has exited) to the idling client
    # told, five times.
    new = [x for x in inbox(b, "bob") if x["subject"] == "Are you there?"][0]
    worst = 0.0
    for i in range(5):
        postern(b, "flag", str(new["id"]), "--star" if i % 2 == 0 else "--unstar")
        committed = time.time()
        line = m.readline()
        told = time.time() - committed
        check(b"FETCH" in line and b"FLAGS" in line, f"IDLE told of the flag: {line}")
        worst = max(worst, told)
    check(worst < 1.0, f"IDLE within a second: {worst:.3f} s")
    print(f"IDLE: a stored change reached the idling client within {worst * 1000:.0f} ms (worst of 5)")
    m.send(b"DONE\r\n")
    while True:
        l = m.readline()
        if l.startswith(tag):
            check(b"OK" in l, l)
            break
    m.logout()


def submission(a, b, alice, bob, pw, port):
    s = smtplib.SMTP("127.0.0.1", port)
    s.ehlo("client")
    check(s.has_extn("auth"), "AUTH offered")
    try:
        s.sendmail(bob, [alice], "Subject: x\r\n\r\ny\r\n")
        check(False, "mail without login")
    except smtplib.SMTPSenderRefused as e:
        check(e.smtp_code == 530, e)
    try:
        s.login(bob, "wrong")
        check(False, "wrong password")
    except smtplib.SMTPAuthenticationError as e:
        check(e.smtp_code == 535, e)
    s.login(bob, pw)
    try:
        s.sendmail(alice, [alice], "Subject: x\r\n\r\ny\r\n")
        check(False, "another sender")
    except smtplib.SMTPSenderRefused as e:
        check(e.smtp_code == 553, e)
    try:
        s.sendmail(bob, ["someone@example.org"], "Subject: x\r\n\r\ny\r\n")
        check(False, "a non-Postern recipient")
    except smtplib.SMTPRecipientsRefused as e:
        check(list(e.recipients.values())[0][0] == 550, e)
    lunch = [x for x in inbox(b, "bob") if x["subject"] == "Lunch on Friday?"][0]
    msg = (f"From: Bob <{bob}>\r\nTo: {alice}\r\nSubject: Re: Lunch on Friday?\r\n"
           f"In-Reply-To: <{lunch['message_id']}>\r\nReferences: <{lunch['message_id']}>\r\n"
           f"Message-ID: <reply-1@client>\r\n\r\nYes, noon at the harbour.\r\n")
    s.sendmail(bob, [alice], msg)
    s.quit()
    got = until("the reply at alice", lambda: [x for x in inbox(a, "alice") if x["subject"] == "Re: Lunch on Friday?"])
    check(got[0]["thread"] == lunch["thread"], f"the reply is in the conversation: {got[0]}")
    sent = [x for x in inbox(b, "bob", "sent") if x["subject"] == "Re: Lunch on Friday?"]
    check(sent, "filed in Sent")


def curl_fetch(bob, pw, port):
    if not shutil.which("curl"):
        raise AssertionError("curl is missing")
    m = imaplib.IMAP4("127.0.0.1", port)
    m.login(bob, pw)
    m.select("INBOX")
    uid = m.uid("SEARCH", "SUBJECT", "lunch")[1][0].decode().split()[0]
    m.logout()
    r = subprocess.run(["curl", "-s", "--user", f"{bob}:{pw}", f"imap://127.0.0.1:{port}/INBOX;UID={uid}"],
                       capture_output=True, text=True, timeout=30)
    check(r.returncode == 0 and "harbour" in r.stdout, f"curl: {r.returncode} {r.stdout[:200]} {r.stderr}")


def mbsync(root, b, bob, pw, port):
    if not shutil.which("mbsync"):
        raise AssertionError("mbsync (isync) is missing")
    maildir = os.path.join(root, "Mail")
    os.makedirs(maildir)
    rc = os.path.join(root, "mbsyncrc")
    conf = postern(b, "imap", "-i", "bob", "--config", "mbsync", "--imap-port", str(port))
    conf = conf.replace("Pass <the app password from `postern imap --rotate`>", f"Pass {pw}")
    conf = conf.replace("~/Mail/postern-bob", maildir)
    with open(rc, "w") as f:
        f.write(conf)
    r = subprocess.run(["mbsync", "-c", rc, "-a"], capture_output=True, text=True, timeout=120)
    check(r.returncode == 0, f"mbsync: {r.stdout} {r.stderr}")
    new = [os.path.join(dp, f) for dp, _, fs in os.walk(os.path.join(maildir, "INBOX")) for f in fs
           if "/cur" in dp or "/new" in dp]
    check(len(new) >= 2, f"mbsync fetched the inbox: {new}")
    texts = [open(p, "rb").read() for p in new]
    check(any(b"harbour" in t for t in texts), "mbsync has the message")
    # Flag one message locally (Maildir: the F flag), push, see it in Postern.
    target = next(p for p, t in zip(new, texts) if b"Are you there?" in t)
    base = target.split(":2,")[0]
    flags = target.split(":2,")[1] if ":2," in target else ""
    dest = os.path.join(maildir, "INBOX", "cur", os.path.basename(base) + ":2," + "".join(sorted(set(flags + "FS"))))
    os.rename(target, dest)
    r = subprocess.run(["mbsync", "-c", rc, "-a"], capture_output=True, text=True, timeout=120)
    check(r.returncode == 0, f"mbsync push: {r.stdout} {r.stderr}")
    m = [x for x in inbox(b, "bob") if x["subject"] == "Are you there?"][0]
    check(m["flagged"] and m["read"], f"mbsync pushed \\Flagged and \\Seen: {m}")
    # And from Postern to the client: flag in Postern, sync, see the F.
    lunch = [x for x in inbox(b, "bob") if x["subject"] == "Lunch on Friday?"][0]
    postern(b, "flag", str(lunch["id"]), "--unstar")
    r = subprocess.run(["mbsync", "-c", rc, "-a"], capture_output=True, text=True, timeout=120)
    check(r.returncode == 0, f"mbsync pull: {r.stderr}")
    files = [f for dp, _, fs in os.walk(os.path.join(maildir, "INBOX")) for f in fs]
    lunch_files = [os.path.join(dp, f) for dp, _, fs in os.walk(os.path.join(maildir, "INBOX")) for f in fs
                   if b"harbour" in open(os.path.join(dp, f), "rb").read()]
    check(lunch_files and "F" not in lunch_files[0].split(":2,")[1], f"flag removed in Postern reached mbsync: {files}")


def normalise(lines):
    """What two servers may say differently about the same mail: UIDs, \\Recent, the order of
    flags, and their own texts in untagged OK responses."""
    out = []
    for l in lines:
        t = l.decode("utf-8", "replace")
        if t.startswith("* OK") or t.startswith("* NO"):
            continue
        t = re.sub(r"UID \d+ ?", "", t)
        t = t.replace("\\Recent", "")
        t = re.sub(r"FLAGS \(([^)]*)\)",
                   lambda m: "FLAGS (" + " ".join(sorted(m.group(1).split())) + ")", t)
        t = t.replace(" )", ")")
        if " FETCH (BODY (" in t:
            t = t.lower()  # MIME types and encodings are case-insensitive (RFC 3501 §7.4.2)
        out.append(t)
    return out


def differential(root, bob, pw, port):
    """The same mailbox served by Dovecot and by Postern answers one command script alike."""
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    from dovecot import Dovecot
    from raw_imap import RawImap
    if not shutil.which("dovecot"):
        raise AssertionError("dovecot (dovecot-imapd) is missing")
    dove = Dovecot(root)
    try:
        # Postern's INBOX, as served, copied into Dovecot's with the same flags and order.
        m = imaplib.IMAP4("127.0.0.1", port)
        m.login(bob, pw)
        m.select("INBOX", readonly=True)
        typ, data = m.fetch("1:*", "(FLAGS BODY.PEEK[])")
        m.logout()
        d = imaplib.IMAP4("127.0.0.1", dove.port)
        d.login(Dovecot.USER, Dovecot.PASSWORD)
        copied = 0
        for item in data:
            if isinstance(item, tuple):
                flags = " ".join(f for f in re.findall(r"\\\w+", item[0].decode()) if f != "\\Recent")
                d.append("INBOX", f"({flags})", None, item[1])
                copied += 1
        d.logout()
        check(copied >= 2, f"copied {copied} messages into Dovecot")
        script = [
            "SELECT INBOX",
            "FETCH 1:* (FLAGS)",
            "FETCH 1:* (RFC822.SIZE)",
            "FETCH 1:* (BODY.PEEK[HEADER.FIELDS (SUBJECT FROM TO)])",
            "FETCH 1:* (BODY.PEEK[TEXT])",
            "FETCH 1:* (BODY.PEEK[1])",
            "FETCH 1:* (BODY.PEEK[2.MIME])",
            "FETCH 1:* (ENVELOPE)",
            "FETCH 1 (BODY)",
            "SEARCH SUBJECT lunch",
            "SEARCH FLAGGED",
            "SEARCH UNSEEN",
            "SEARCH TEXT harbour",
            "SEARCH OR FLAGGED SUBJECT there",
            "SEARCH NOT SEEN",
            "SEARCH LARGER 100 SMALLER 100000",
            "STORE 1 +FLAGS (\\Flagged)",
            "FETCH 1 (FLAGS)",
            "STORE 1 -FLAGS (\\Flagged)",
            "STATUS Archive (MESSAGES UNSEEN)",
            "FETCH 99 (FLAGS)",
            "SELECT Nowhere",
            "CREATE Projects/2026",
            "FETCH 1 (NOSUCHITEM)",
        ]
        answers = {}
        for name, p, user, password in (("postern", port, bob, pw),
                                        ("dovecot", dove.port, Dovecot.USER, Dovecot.PASSWORD)):
            c = RawImap(p)
            c.command(f'LOGIN "{user}" "{password}"')
            answers[name] = [(cmd, *c.command(cmd)) for cmd in script]
            c.close()
        for (cmd, pl, ps), (_, dl, ds) in zip(answers["postern"], answers["dovecot"]):
            if cmd.startswith("CREATE"):
                # Postern's mailboxes are fixed; Dovecot makes any.
                check(ps == "NO" and ds == "OK", f"{cmd}: {ps} vs {ds}")
                continue
            check(ps == ds, f"{cmd}: Postern {ps}, Dovecot {ds}")
            if cmd.startswith("SELECT INBOX"):
                keep = lambda ls: [l for l in normalise(ls) if "EXISTS" in l or l.startswith("* FLAGS")]
                check(keep(pl) == keep(dl), f"{cmd}: {keep(pl)} vs {keep(dl)}")
                continue
            check(normalise(pl) == normalise(dl), f"{cmd}:\n Postern {normalise(pl)}\n Dovecot {normalise(dl)}")
        print(f"differential: {len(script)} commands answered alike by Postern and Dovecot")
    finally:
        dove.stop()


def with_neomutt(root, a, b, bob, pw, imap_port, sub_port):
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    from neomutt import neomutt
    replies = lambda: [x for x in inbox(a, "alice") if x["subject"] == "Re: Lunch on Friday?"]
    before = len(replies())
    reply = neomutt(root, bob, pw, imap_port, sub_port, check)
    until("NeoMutt's reply at alice", lambda: len(replies()) > before)
    newest = max(replies(), key=lambda x: x["id"])
    text = postern(a, "read", str(newest["id"]))
    check(reply in text, f"alice reads what NeoMutt wrote: {text}")
    check(newest["thread"] == replies()[0]["thread"], "NeoMutt's reply is in the conversation")
    archived = [x for x in inbox(b, "bob", "archive") if x["subject"] == "Lunch on Friday?"]
    check(archived, "NeoMutt moved the message to Archive")
    check(not [x for x in inbox(b, "bob") if x["subject"] == "Lunch on Friday?"], "and out of INBOX")
    print("neomutt: read, replied through submission, moved to Archive")


def config(b):
    xml = postern(b, "imap", "-i", "bob", "--config", "thunderbird")
    check("<incomingServer type=\"imap\">" in xml and "<outgoingServer type=\"smtp\">" in xml, xml)
    r = subprocess.run([BIN, "--data-dir", b, "imap", "-i", "bob", "--config", "outlook"], env=ENV,
                       capture_output=True, text=True)
    check(r.returncode != 0 and "mbsync or thunderbird" in r.stderr, r.stderr)


if __name__ == "__main__":
    main()
