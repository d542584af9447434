#!/usr/bin/env python3
"""STARTTLS end to end: a real mxsim on loopback with its generated
certificate, driven by smtplib, swaks, openssl s_client, raw sockets and
mxload --starttls.

Usage: test_tls.py --build BUILD_DIR [TEST_NAME ...]
Prints one line per test and ends with "tls: N passed, N failed".
"""
import json
import os
import re
import shutil
import socket
import ssl
import subprocess
import sys
import tempfile
import time
import urllib.request
import warnings

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from mxsim_proc import Client, Mxsim, Skip, enhanced, free_port, free_ports, run_suite  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PROFILES = os.path.join(ROOT, "profiles")

GMAIL_MX = "127.1.0.9"
GENERIC_MX = "127.4.0.9"
SINK_MX = "127.0.0.1"


def client_ctx(maximum=None):
    """A client context that trusts anything (mxsim's certificate is
    self-signed); @maximum limits the protocol version."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    if maximum is not None:
        warnings.simplefilter("ignore", DeprecationWarning)
        ctx.set_ciphers("DEFAULT@SECLEVEL=0")
        ctx.minimum_version = ssl.TLSVersion.TLSv1
        ctx.maximum_version = maximum
    return ctx


def starttls(c, ctx=None):
    """STARTTLS on a mxsim_proc.Client (smtplib wants a host name for
    SNI; the Client connected by address)."""
    c.s._host = "mx.test"
    return c.s.starttls(context=ctx if ctx is not None else client_ctx())


def read_reply(f):
    """One SMTP reply (all its lines) from a file object, as bytes."""
    out = b""
    while True:
        line = f.readline()
        if not line:
            return out
        out += line
        if len(line) < 4 or line[3:4] != b"-":
            return out


def raw_ehlo(mx, port, source):
    """A raw socket that was greeted and sent EHLO, whose reply offers
    STARTTLS; returns (socket, its reader)."""
    s = socket.create_connection((mx, port), timeout=10, source_address=(source, 0))
    f = s.makefile("rb")
    assert read_reply(f).startswith(b"220 ")
    s.sendall(b"EHLO x\r\n")
    assert b"STARTTLS" in read_reply(f)
    return s, f


def raw_starttls(mx, port, source):
    """raw_ehlo(), then STARTTLS and its 220."""
    s, f = raw_ehlo(mx, port, source)
    s.sendall(b"STARTTLS\r\n")
    assert read_reply(f).startswith(b"220 2.0.0")
    return s, f


def events(path):
    """The fields this suite reads from each event-log line (taken with a
    pattern, so that a field it does not read cannot break the parse)."""
    pat = re.compile(r'"(mx|client|stage|reason)":"([^"]*)"|"(code)":(\d+)|"(tls)":(true|false)')
    out = []
    with open(path, "rb") as f:
        for line in f:
            e = {}
            for m in pat.finditer(line.decode("utf-8", "replace")):
                if m.group(1):
                    e.setdefault(m.group(1), m.group(2))
                elif m.group(3):
                    e.setdefault("code", int(m.group(4)))
                else:
                    e.setdefault("tls", m.group(6) == "true")
            out.append(e)
    return out


def summary_line(out):
    m = re.search(r"STARTTLS: (\d+) handshakes, (\d+) failed", out)
    assert m, out[-600:]
    return int(m.group(1)), int(m.group(2))


class Suite:
    def __init__(self, build):
        self.build = build
        self.mxsim_bin = os.path.join(build, "sim", "mxsim")
        self.mxload_bin = os.path.join(build, "harness", "mxload")

    def start(self, *args):
        self.port = free_port()
        return Mxsim(self.mxsim_bin, args, self.port)

    # -- tests --------------------------------------------------------------

    def test_smtplib_starttls(self):
        """EHLO offers STARTTLS (not on the sink); after it EHLO no longer
        does, the message is accepted and its events say tls."""
        m = self.start()
        try:
            c = Client(GMAIL_MX, self.port, "127.0.40.1")
            assert c.s.has_extn("starttls"), c.ehlo
            code, text = starttls(c)
            assert code == 220 and text.startswith(b"2.0.0"), (code, text)
            assert c.s.sock.version() == "TLSv1.3", c.s.sock.version()
            code, text = c.s.ehlo("client.test")
            assert code == 250 and not c.s.has_extn("starttls"), text
            r = c.message("a@auth.example", ["u1@gmail.com"])
            assert r[1] == 250, r
            code, text = c.cmd("STARTTLS")
            assert (code, enhanced(text)) == (503, "5.5.1"), (code, text)
            c.close()
            s = Client(SINK_MX, self.port, "127.0.40.2")
            assert not s.s.has_extn("starttls"), s.ehlo
            assert s.cmd("STARTTLS")[0] == 502
            s.close()
        finally:
            rc, out, err = m.stop()
        assert rc == 0, err
        assert "STARTTLS: self-signed certificate generated at start" in err, err
        assert summary_line(out) == (1, 0), out
        ev = events(m.events)
        eod = [e for e in ev if e["stage"] == "eod" and e["client"] == "127.0.40.1"]
        assert [(e["code"], e["tls"]) for e in eod] == [(250, True)], eod
        greet = [e for e in ev if e["stage"] == "connect" and e["client"] == "127.0.40.1"]
        assert [e["tls"] for e in greet] == [False], greet

    def test_swaks_tls(self):
        """swaks --tls completes a message over TLS."""
        if shutil.which("swaks") is None:
            raise AssertionError("swaks is not installed")
        m = self.start()
        try:
            p = subprocess.run(["swaks", "--tls", "--server", GENERIC_MX,
                                "--port", str(self.port), "--local-interface", "127.0.41.1",
                                "--from", "s@auth.example", "--to", "a@example.com",
                                "--timeout", "20"],
                               capture_output=True, text=True, timeout=60)
            assert p.returncode == 0, p.stdout[-1200:]
            assert "<-  220 2.0.0 Ready to start TLS" in p.stdout, p.stdout[-1200:]
            assert "=== TLS started" in p.stdout, p.stdout[-1200:]
            assert re.search(r"<~  250 2\.0\.0", p.stdout), p.stdout[-1200:]
        finally:
            rc, out, err = m.stop()
        assert summary_line(out) == (1, 0), out

    def test_openssl_versions(self):
        """openssl s_client -starttls smtp gets TLS 1.3 (and 1.2 when
        asked); a TLS 1.1-only client is refused and counted."""
        if shutil.which("openssl") is None:
            raise Skip("openssl is not installed")
        m = self.start()
        try:
            base = ["openssl", "s_client", "-starttls", "smtp", "-brief",
                    "-connect", "%s:%d" % (GMAIL_MX, self.port)]
            p = subprocess.run(base, input="QUIT\n", capture_output=True,
                               text=True, timeout=30)
            both = p.stdout + p.stderr
            assert "Protocol version: TLSv1.3" in both, both[-800:]
            p = subprocess.run(base + ["-tls1_2"], input="QUIT\n",
                               capture_output=True, text=True, timeout=30)
            both = p.stdout + p.stderr
            assert "Protocol version: TLSv1.2" in both, both[-800:]
            p = subprocess.run(base + ["-tls1_1", "-cipher", "DEFAULT@SECLEVEL=0"],
                               input="QUIT\n", capture_output=True, text=True, timeout=30)
            both = p.stdout + p.stderr
            assert p.returncode != 0, both[-800:]
            assert "Protocol version: TLSv1.1" not in both, both[-800:]
            # the same refusal from Python's client
            c = Client(GMAIL_MX, self.port, "127.0.42.1")
            try:
                starttls(c, client_ctx(ssl.TLSVersion.TLSv1_1))
                raise AssertionError("a TLS 1.1 client negotiated")
            except (ssl.SSLError, OSError):
                pass
        finally:
            rc, out, err = m.stop()
        assert rc == 0, err
        assert summary_line(out) == (2, 2), out

    def test_gmail_bulk_tls(self):
        """A Gmail bulk sender gets 421 4.7.29 without TLS and 250 with it."""
        d = tempfile.mkdtemp(prefix="mxsim-tls-bulk-")
        with open(os.path.join(PROFILES, "gmail.yaml")) as f:
            text = f.read()
        text, n = re.subn(r"(?m)^(\s*bulk_threshold:) \d+", r"\1 3", text)
        assert n == 1
        with open(os.path.join(d, "gmail.yaml"), "w") as f:
            f.write(text)
        scn = os.path.join(d, "bulk.yaml")
        with open(scn, "w") as f:
            f.write("seed: 7\nport: 2525\nservers:\n"
                    "  - profile: gmail\n    addresses: [127.1.0.0/24]\n"
                    "senders:\n  domains:\n"
                    "    bulk.example: {spf: pass, dkim: pass, dmarc: pass}\n")

        def body(i):
            return ("From: <news@bulk.example>\r\nMessage-ID: <%d.%d@bulk.example>\r\n"
                    "List-Unsubscribe: <https://unsub.bulk.example/u/%d>\r\n"
                    "List-Unsubscribe-Post: List-Unsubscribe=One-Click\r\n"
                    "Subject: news\r\n\r\nhello\r\n" % (os.getpid(), i, i))

        m = self.start("--config", scn)
        try:
            plain = []
            for i in range(6):       # a 421 closes: one connection each
                c = Client(GMAIL_MX, self.port, "127.0.43.1")
                plain.append(c.message("news@bulk.example", "u%d@gmail.com" % i, body(i)))
                c.close()
                if plain[-1][1] != 250:
                    break
            t = Client(GMAIL_MX, self.port, "127.0.43.1")
            starttls(t)
            t.s.ehlo("client.test")
            tls = t.message("news@bulk.example", "u9@gmail.com", body(9))
            t.close()
        finally:
            rc, out, err = m.stop()
        assert rc == 0, err
        assert [r[1] for r in plain] == [250, 250, 250, 421], plain
        assert (plain[-1][0], enhanced(plain[-1][2])) == ("eod", "4.7.29"), plain
        assert b"TLS" in plain[-1][2], plain[-1]
        assert tls[1] == 250, tls
        ev = events(m.events)
        assert any(e["reason"] == "bulk.tls" and not e["tls"] for e in ev)

    def test_pipelined_after_starttls(self):
        """Commands pipelined after STARTTLS in clear text are dropped (a
        profile without protocol.starttls_pipelined: generic); Gmail, which
        has it, answers 523 5.7.10 instead and stays in clear text."""
        m = self.start()
        try:
            raw, f = raw_ehlo(GMAIL_MX, self.port, "127.0.44.2")
            raw.sendall(b"STARTTLS\r\nMAIL FROM:<evil@inject.example>\r\n")
            r = read_reply(f)
            assert r.startswith(b"523-5.7.10") and b"\r\n523 5.7.10 " in r, r
            raw.sendall(b"RCPT TO:<u@gmail.com>\r\n")
            r = read_reply(f)
            assert r.startswith(b"503"), r          # the MAIL never ran
            raw.sendall(b"QUIT\r\n")
            assert read_reply(f).startswith(b"221")
            raw.close()
            raw, f = raw_ehlo(GENERIC_MX, self.port, "127.0.44.1")
            raw.sendall(b"STARTTLS\r\nMAIL FROM:<evil@inject.example>\r\n")
            assert read_reply(f).startswith(b"220 2.0.0")
            s = client_ctx().wrap_socket(raw, server_hostname="mx")
            tf = s.makefile("rb")
            s.sendall(b"RCPT TO:<u@example.net>\r\n")
            r = read_reply(tf)
            assert r.startswith(b"503"), r            # no MAIL, no EHLO
            s.sendall(b"EHLO x\r\n")
            r = read_reply(tf)
            assert r.startswith(b"250") and b"STARTTLS" not in r, r
            s.sendall(b"RCPT TO:<u@example.net>\r\n")
            r = read_reply(tf)
            assert r.startswith(b"503"), r            # the MAIL never ran
            s.sendall(b"QUIT\r\n")
            assert read_reply(tf).startswith(b"221")
            s.close()
        finally:
            rc, out, err = m.stop()
        ev = events(m.events)
        mine = [e for e in ev if e["client"] == "127.0.44.1"]
        assert not any(e["stage"] == "mail" for e in mine), mine

    def test_garbage_clienthello(self):
        """Garbage instead of a ClientHello closes that connection while
        another client, on the same worker, is served over TLS."""
        self.port, cport = free_ports(2)
        ctl = "127.0.0.1:%d" % cport
        m = Mxsim(self.mxsim_bin, ["--workers", "1", "--control", ctl,
                                   "--metrics", ctl], self.port)
        try:
            bad, _ = raw_starttls(GMAIL_MX, self.port, "127.0.45.1")
            good = Client(GMAIL_MX, self.port, "127.0.45.2")
            starttls(good)
            good.s.ehlo("client.test")
            bad.sendall(b"GET / HTTP/1.0\r\nHost: x\r\n\r\n" + bytes(range(256)) * 4)
            t0 = time.time()
            data = b""
            while time.time() - t0 < 5:
                try:
                    chunk = bad.recv(4096)
                except ConnectionResetError:
                    break
                if not chunk:
                    break
                data += chunk
            assert time.time() - t0 < 5, "garbage connection not closed"
            assert b"250" not in data, data
            r = good.message("a@auth.example", "u1@gmail.com")
            assert r[1] == 250, r
            good.close()
            bad.close()
            # the live figures say the same as the exit summary
            base = "http://127.0.0.1:%d" % cport
            with urllib.request.urlopen(base + "/metrics", timeout=5) as f:
                metrics = f.read().decode()
            assert 'mxsim_tls_handshakes_total{result="ok"} 1\n' in metrics, metrics
            assert 'mxsim_tls_handshakes_total{result="failed"} 1\n' in metrics, metrics
            with urllib.request.urlopen(base + "/v1/counters", timeout=5) as f:
                tls = json.load(f)["totals"]["tls"]
            assert tls == {"handshakes": 1, "failed": 1}, tls
        finally:
            rc, out, err = m.stop()
        assert rc == 0, err
        assert summary_line(out) == (1, 1), out

    def test_handshake_idle_timeout(self):
        """STARTTLS answered, then silence: the idle timeout still closes."""
        scn = os.path.join(ROOT, "tests", "data", "e2e_timeout.yaml")
        m = self.start("--config", scn)
        try:
            s, f = raw_starttls("127.6.0.1", self.port, "127.0.47.1")
            t0 = time.time()
            rest = f.read()           # until the server closes
            took = time.time() - t0
            assert rest == b"", rest  # no clear-text 421 mid-handshake
            assert 0.5 < took < 5, took
            s.close()
        finally:
            m.stop()

    def test_mxload_starttls(self):
        """mxload --starttls: every connection negotiates, every message is
        tallied, mxsim counts the same handshakes."""
        m = self.start("--workers", "2")
        try:
            p = subprocess.run([self.mxload_bin, "-t", "g=127.4.0.0/28:%d@example.com" % self.port,
                                "-s", "127.0.46.0/29", "-n", "200", "-c", "8", "-m", "2",
                                "--starttls", "-q"],
                               capture_output=True, text=True, timeout=120)
            assert p.returncode == 0, p.stdout + p.stderr
            p2 = subprocess.run([self.mxload_bin, "-t", "s=%s:%d" % (SINK_MX, self.port),
                                 "-s", "127.0.46.8/29", "-n", "20", "-c", "2", "-m", "2",
                                 "--starttls", "-q"],
                                capture_output=True, text=True, timeout=120)
            assert p2.returncode == 0, p2.stdout + p2.stderr
        finally:
            rc, out, err = m.stop()
        assert rc == 0, err
        mt = re.search(r"STARTTLS: (\d+) handshakes \([\d.]+/s\), (\d+) failed, (\d+) refused, "
                       r"(\d+) sessions not offered it", p.stdout)
        assert mt, p.stdout
        conns = re.search(r"(\d+) connections, 0 errors", p.stdout)
        assert conns, p.stdout
        nconn = int(conns.group(1))
        assert 100 <= nconn <= 200, p.stdout
        assert mt.groups() == (str(nconn), "0", "0", "0"), p.stdout
        assert re.search(r"outcome\s+accepted (\d+)", p.stdout), p.stdout
        total = sum(int(x) for x in re.findall(r"(?:accepted|deferred|rejected|error) (\d+)",
                                               p.stdout.split("\n")[1]))
        assert total == 200, p.stdout
        m2 = re.search(r"(\d+) connections, 0 errors", p2.stdout)
        assert m2 and "STARTTLS: 0 handshakes" in p2.stdout and \
            "%s sessions not offered it" % m2.group(1) in p2.stdout, p2.stdout
        assert summary_line(out) == (nconn, 0), out
        ev = events(m.events)
        eod = [e for e in ev if e["stage"] == "eod" and e["mx"].startswith("127.4.0.")]
        assert len(eod) == 200 and all(e["tls"] for e in eod), len(eod)


if __name__ == "__main__":
    sys.exit(run_suite("tls", Suite, width=34))
