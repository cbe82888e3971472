"""NeoMutt, a real terminal mail client, driven through tmux against Postern's IMAP and
submission servers: it opens the inbox, reads a message, replies (sent through submission) and
moves the message to Archive. Used by clients.py."""

import os
import shutil
import subprocess
import time

SESSION = "postern-neomutt"
REPLY = "Noon it is, by the lighthouse steps (written in NeoMutt)."


def tmux(*args):
    return subprocess.run(["tmux", *args], capture_output=True, text=True, timeout=30)


def screen():
    return tmux("capture-pane", "-p", "-t", SESSION).stdout


def wait_for(text, seconds=30):
    end = time.time() + seconds
    while time.time() < end:
        s = screen()
        if text in s:
            return s
        time.sleep(0.2)
    raise AssertionError(f"NeoMutt never showed {text!r}; the screen:\n{screen()}")


def keys(*k):
    tmux("send-keys", "-t", SESSION, *k)


def neomutt(root, bob, pw, imap_port, sub_port, check):
    """Read, reply and archive with NeoMutt; returns once NeoMutt has quit."""
    for tool in ("neomutt", "tmux"):
        if not shutil.which(tool):
            raise AssertionError(f"{tool} is missing")
    home = os.path.join(root, "neomutt")
    os.makedirs(home)
    editor = os.path.join(home, "write-reply")
    with open(editor, "w") as f:
        # The reply text goes above the quoted message; no interactive editor.
        f.write(f"#!/bin/sh\n{{ echo '{REPLY}'; echo; cat \"$1\"; }} > \"$1.new\" && mv \"$1.new\" \"$1\"\n")
    os.chmod(editor, 0o755)
    rc = os.path.join(home, "neomuttrc")
    with open(rc, "w") as f:
        f.write(f"""set folder = "imap://127.0.0.1:{imap_port}/"
set spoolfile = "+INBOX"
set imap_user = "{bob}"
set imap_pass = "{pw}"
set smtp_url = "smtp://{bob}@127.0.0.1:{sub_port}/"
set smtp_pass = "{pw}"
set smtp_authenticators = "plain"
set ssl_starttls = no
set ssl_force_tls = no
set from = "{bob}"
set realname = "Bob"
set use_from = yes
set editor = "{editor}"
set edit_headers = no
set fast_reply = yes
set include = yes
set copy = no
set postpone = no
set abort_unmodified = no
set confirmappend = no
set delete = yes
set quit = yes
set mark_old = no
set move = no
set wait_key = no
set sort = date
set timeout = 1
set mail_check = 1
set header_cache = ""
set message_cachedir = ""
""")
    tmux("kill-session", "-t", SESSION)
    r = tmux("new-session", "-d", "-s", SESSION, "-x", "160", "-y", "48",
             f"HOME={home} TERM=xterm neomutt -n -F {rc}")
    check(r.returncode == 0, f"tmux: {r.stderr}")
    try:
        wait_for("Lunch on Friday?")
        # Put the cursor on the lunch message: limit the index to it.
        keys("l")
        wait_for("Limit to messages matching")
        keys("~s Lunch", "Enter")
        wait_for("Lunch on Friday?")
        keys("Enter")  # read it
        s = wait_for("harbour")
        check("Postern: signed by" in s, f"NeoMutt shows Postern's verdict line:\n{s}")
        keys("r")  # reply; the editor writes it; the compose menu follows
        wait_for("y:Send")
        keys("y")
        wait_for("Mail sent", 60)
        keys("q")  # back to the index
        wait_for("Lunch on Friday?")
        keys("s")  # save: NeoMutt COPYs (which moves it in Postern) and marks it deleted here
        wait_for("to mailbox")
        keys("C-u", "=Archive", "Enter")
        wait_for("Del:1")  # saved there, so marked deleted here; quitting expunges
        keys("q")
        end = time.time() + 30
        while time.time() < end and tmux("has-session", "-t", SESSION).returncode == 0:
            time.sleep(0.2)
            if "Purge" in screen() or "(yes/no)" in screen():
                keys("y")
        check(tmux("has-session", "-t", SESSION).returncode != 0, f"NeoMutt quit:\n{screen()}")
    finally:
        tmux("kill-session", "-t", SESSION)
    return REPLY
