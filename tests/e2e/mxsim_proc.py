"""Start and stop a real mxsim process for end-to-end tests, and run a
suite of test methods with one summary line."""
import argparse
import json
import os
import re
import smtplib
import signal
import socket
import subprocess
import tempfile
import time
import traceback


class Mxsim:
    """An mxsim process on loopback; stop() returns (rc, stdout, stderr)."""

    def __init__(self, binary, args, port):
        self.dir = tempfile.mkdtemp(prefix="mxsim-e2e-")
        self.ready = os.path.join(self.dir, "ready")
        self.events = os.path.join(self.dir, "events.jsonl")
        self.port = port
        cmd = [binary, "--port", str(port), "--event-log", self.events,
               "--ready-file", self.ready] + list(args)
        self.out = open(os.path.join(self.dir, "stdout"), "w+")
        self.err = open(os.path.join(self.dir, "stderr"), "w+")
        self.proc = subprocess.Popen(cmd, stdout=self.out, stderr=self.err,
                                     stdin=subprocess.DEVNULL)
        deadline = time.time() + 30
        while not os.path.exists(self.ready):
            if self.proc.poll() is not None or time.time() > deadline:
                rc, out, err = self.stop()
                raise RuntimeError("mxsim did not start (rc %s): %s" % (rc, err))
            time.sleep(0.05)

    def stop(self, sig=signal.SIGTERM, timeout=30):
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.out.seek(0)
        self.err.seek(0)
        return self.proc.returncode, self.out.read(), self.err.read()


def free_port():
    """A TCP port no address of this host listens on now (bounded search,
    starting at a place that depends on the process id, so that concurrent
    test runs rarely meet). Binding 0.0.0.0 fails if any address holds it."""
    base = 26000 + (os.getpid() % 50) * 10
    for i in range(500):
        port = 26000 + (base - 26000 + i) % 500
        s = socket.socket()
        try:
            s.bind(("0.0.0.0", port))
            return port
        except OSError:
            continue
        finally:
            s.close()
    raise RuntimeError("no free port in 26000..26499")


def free_ports(n):
    """n distinct free ports: each found port is held while looking for the next."""
    held, ports = [], []
    try:
        for _ in range(n):
            ports.append(free_port())
            s = socket.socket()
            s.bind(("127.0.0.1", ports[-1]))
            held.append(s)
    finally:
        for s in held:
            s.close()
    return ports


class Skip(Exception):
    """A test that cannot run here; the message says why. Not a failure."""


def run_suite(label, make_suite, width=34):
    """Run the test_* methods of make_suite(build_dir): all, or those named
    on the command line (--build DIR [NAME ...]). Prints one line per test
    and "LABEL: N passed, N failed[, N skipped]"; returns the exit status.
    The suite's close() method, if any, runs at the end."""
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", required=True)
    ap.add_argument("tests", nargs="*")
    a = ap.parse_args()
    suite = make_suite(os.path.abspath(a.build))
    names = sorted(n for n in dir(suite) if n.startswith("test_"))
    if a.tests:
        names = [n for n in names if n in a.tests or n[5:] in a.tests]
    passed = failed = skipped = 0
    try:
        for n in names:
            t0 = time.time()
            try:
                getattr(suite, n)()
                passed += 1
                print("  %-*s ok (%.1f s)" % (width, n, time.time() - t0), flush=True)
            except Skip as e:
                skipped += 1
                print("  %-*s SKIPPED: %s" % (width, n, e), flush=True)
            except Exception:
                failed += 1
                print("  %-*s FAIL" % (width, n), flush=True)
                traceback.print_exc()
    finally:
        close = getattr(suite, "close", None)
        if close is not None:
            close()
    print("%s: %d passed, %d failed%s" % (
        label, passed, failed, (", %d skipped" % skipped) if skipped else ""))
    return 1 if failed else 0


class Client:
    """One SMTP connection from a chosen source address, command by command."""

    def __init__(self, mx, port, source, helo="client.test"):
        self.s = smtplib.SMTP(timeout=20)
        self.greeting = self.s.connect(mx, port, source_address=(source, 0))
        self.ehlo = self.s.ehlo(helo)

    def cmd(self, line):
        return self.s.docmd(line)

    nmsg = 0

    def message(self, sender, rcpts, body=None):
        """MAIL, RCPT... (a list, or one address), DATA, body; returns
        (stage, code, text) of the first refusal or of the EOD reply.
        The default body has From (the sender) and a unique Message-ID:
        mxsim scans every message and Gmail refuses mail without them."""
        if isinstance(rcpts, str):
            rcpts = [rcpts]
        if body is None:
            Client.nmsg += 1
            body = ("From: <%s>\r\nMessage-ID: <%d.%d@e2e.test>\r\n"
                    "Subject: t\r\n\r\nhello\r\n" % (
                        sender, os.getpid(), Client.nmsg))
        code, text = self.cmd("MAIL FROM:<%s>" % sender)
        if code != 250:
            return ("mail", code, text)
        ok = 0
        last = None
        for r in rcpts:
            code, text = self.cmd("RCPT TO:<%s>" % r)
            last = ("rcpt", code, text)
            ok += code == 250
        if ok == 0:
            self.cmd("RSET")
            return last
        code, text = self.cmd("DATA")
        if code != 354:
            return ("data", code, text)
        self.s.send(body.replace("\r\n.", "\r\n..") + "\r\n.\r\n")
        code, text = self.s.getreply()
        return ("eod", code, text)

    def close(self):
        try:
            self.s.quit()
        except (smtplib.SMTPException, OSError):
            self.s.close()


def enhanced(text):
    """The enhanced status code at the start of a reply text, or ""."""
    m = re.match(rb"(\d\.\d{1,3}\.\d{1,3})", text)
    return m.group(1).decode() if m else ""


def read_events(path):
    """Every event of an mxsim event log (JSON Lines)."""
    with open(path) as f:
        return [json.loads(line) for line in f]
