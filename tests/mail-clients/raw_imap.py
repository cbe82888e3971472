"""A minimal IMAP client that keeps every response line as sent (literals inlined), for
comparing servers: imaplib sorts responses into a dictionary and loses their order."""

import re
import socket


class RawImap:
    def __init__(self, port):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=60)
        self.buf = b""
        self.n = 0
        self.line()  # greeting

    def line(self):
        while b"\r\n" not in self.buf:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise EOFError("connection closed")
            self.buf += chunk
        line, self.buf = self.buf.split(b"\r\n", 1)
        # A literal: its bytes belong to this response.
        m = re.search(rb"\{(\d+)\}$", line)
        if m:
            n = int(m.group(1))
            while len(self.buf) < n:
                self.buf += self.sock.recv(65536)
            lit, self.buf = self.buf[:n], self.buf[n:]
            # As a quoted string, so that the same text compares equal however it was sent.
            quoted = b'"' + lit.replace(b"\\", b"\\\\").replace(b'"', b'\\"') + b'"'
            return line[: m.start()] + quoted + self.line()
        return line

    def command(self, text):
        """Send a command; (untagged responses, tagged status word)."""
        self.n += 1
        tag = f"t{self.n}".encode()
        self.sock.sendall(tag + b" " + text.encode() + b"\r\n")
        untagged = []
        while True:
            line = self.line()
            if line.startswith(tag + b" "):
                return untagged, line.split(b" ")[1].decode()
            untagged.append(line)

    def close(self):
        try:
            self.command("LOGOUT")
        except (EOFError, OSError):
            pass
        self.sock.close()
