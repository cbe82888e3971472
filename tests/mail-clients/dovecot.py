"""Debian's Dovecot, started with its own configuration in a temporary directory on a loopback
port: the reference IMAP server that Postern is compared with (tests and benchmarks)."""

import os
import pwd
import shutil
import socket
import subprocess
import time


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


class Dovecot:
    USER = "me"
    PASSWORD = "pw"

    def __init__(self, root):
        # Dovecot's mail user must be able to reach its directory.
        os.chmod(root, 0o755)
        self.dir = os.path.join(root, "dovecot")
        os.makedirs(self.dir)
        self.port = free_port()
        if os.getuid() == 0:
            # Dovecot will not deliver as root: mail belongs to its own system user.
            mail = pwd.getpwnam("dovecot")
            internal = ""
        else:
            mail = pwd.getpwuid(os.getuid())
            internal = (f"default_login_user = {mail.pw_name}\n"
                        f"default_internal_user = {mail.pw_name}\n"
                        f"default_internal_group = {mail.pw_name}\n")
        home = os.path.join(self.dir, "home")
        os.makedirs(home)
        for p in (self.dir, home):
            os.chown(p, mail.pw_uid, mail.pw_gid)
        self.conf = os.path.join(self.dir, "dovecot.conf")
        special = "".join(
            f"  mailbox {n} {{\n    special_use = \\{n}\n    auto = create\n  }}\n"
            for n in ("Drafts", "Sent", "Archive", "Trash"))
        with open(self.conf, "w") as f:
            f.write(f"""base_dir = {self.dir}/run
state_dir = {self.dir}/state
log_path = {self.dir}/dovecot.log
protocols = imap
listen = 127.0.0.1
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain
first_valid_uid = 1
mail_fsync = always
{internal}passdb {{
  driver = static
  args = password={self.PASSWORD}
}}
userdb {{
  driver = static
  args = uid={mail.pw_uid} gid={mail.pw_gid} home={home}/%u
}}
mail_location = maildir:~/Maildir
namespace inbox {{
  inbox = yes
  separator = /
  mailbox Requests {{
    auto = create
  }}
{special}}}
service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1
    port = {self.port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
service pop3-login {{
  inet_listener pop3 {{
    port = 0
  }}
  inet_listener pop3s {{
    port = 0
  }}
}}
""")
        self.proc = subprocess.Popen(["dovecot", "-F", "-c", self.conf],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        end = time.time() + 20
        while True:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                break
            except OSError:
                if self.proc.poll() is not None or time.time() > end:
                    log = open(os.path.join(self.dir, "dovecot.log")).read() if os.path.exists(
                        os.path.join(self.dir, "dovecot.log")) else ""
                    raise RuntimeError(f"dovecot did not start: {self.proc.stderr.read()} {log}")
                time.sleep(0.1)

    def stop(self):
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
