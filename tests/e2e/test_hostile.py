#!/usr/bin/env python3
"""Adversarial clients against a real mxsim (issue 8): each test asserts
the server's exact answer and that a well-behaved client is served at the
same time; the last test checks that the event log, mxsim's exit summary
and the clients' own tallies agree.

One mxsim runs tests/data/hostile.yaml (idle timeout 2 s, session 6 s) for
all tests in order; each test sends from its own client address so its
events can be told apart.  test_memory_idle starts its own mxsim with the
bundled scenario (idle timeout 300 s) to measure memory per idle session.

Usage: test_hostile.py --build BUILD_DIR [TEST_NAME ...]
Prints one line per test and ends with "hostile: N passed, N failed".
"""
import json
import os
import re
import resource
import smtplib
import socket
import struct
import sys
import threading
import time
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from mxsim_proc import Mxsim, free_port, run_suite  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SCENARIO = os.path.join(ROOT, "tests", "data", "hostile.yaml")
DEFAULT = os.path.join(ROOT, "profiles", "default.yaml")

SINK = "127.0.0.1"
GMAIL = "127.1.0.5"
MS = "127.2.0.5"
SMALL = "127.7.0.1"
IDLE_S = 2
SESSION_S = 6

SINK_GREET = b"220 sink.mxsim.test ESMTP mxsim sink ready\r\n"
SINK_EHLO = (b"250-sink.mxsim.test Hello [%s]\r\n250-PIPELINING\r\n"
             b"250-8BITMIME\r\n250-ENHANCEDSTATUSCODES\r\n250 SIZE 1073741824\r\n")
TIMEOUT_R = b"421 4.4.2 sink.mxsim.test Timeout - closing connection\r\n"
OK_R = b"250 2.0.0 OK\r\n"


def start_mxsim(binary, args):
    """Start mxsim on a port free now; retry on another port when a
    concurrent test took it meanwhile (bounded: 8 tries)."""
    last = None
    for attempt in range(8):
        port = 27000 + (os.getpid() * 7 + attempt * 131) % 1000
        try:
            return Mxsim(binary, args, port), port
        except RuntimeError as e:
            if "Address already in use" not in str(e):
                raise
            last = e
    raise last


def rss_kb(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise RuntimeError("no VmRSS")


def connect(mx, port, source, timeout=10.0):
    s = socket.socket()
    s.settimeout(timeout)
    s.bind((source, 0))
    s.connect((mx, port))
    return s


def read_until(s, pred, timeout=10.0):
    """Read until pred(data) or EOF; returns (data, eof)."""
    data = b""
    end = time.time() + timeout
    while not pred(data):
        left = end - time.time()
        if left <= 0:
            raise AssertionError("timed out waiting; got %r" % data[-300:])
        s.settimeout(left)
        try:
            d = s.recv(65536)
        except ConnectionResetError:
            return data, True
        if not d:
            return data, True
        data += d
    return data, False


def read_to_eof(s, timeout=10.0):
    data, eof = read_until(s, lambda d: False, timeout)
    return data


def lines_done(n):
    """Predicate: n complete final reply lines received."""
    return lambda d: len(re.findall(rb"^\d{3} .*\r\n", d, re.M)) >= n


class Suite:
    def close(self):
        """Stop the shared mxsim, if a test left it running."""
        if self.m is not None:
            self.m.stop()

    def __init__(self, build):
        self.build = build
        self.bin = os.path.join(build, "sim", "mxsim")
        self.m = None
        self.port = None
        # the clients' tallies, checked against mxsim at the end
        self.connections = 0
        self.accepted = 0          # 250 at end of DATA
        self.good_lock = threading.Lock()

    # -- helpers ---------------------------------------------------------------

    def server(self):
        if self.m is None:
            self.m, self.port = start_mxsim(self.bin, ["-c", SCENARIO])
        return self.m

    def count_conn(self, n=1):
        with self.good_lock:
            self.connections += n

    def good_client(self, source="127.0.99.1"):
        """A full smtplib transaction to the sink: must get 250 at EOD."""
        self.count_conn()
        c = smtplib.SMTP(timeout=10)
        code, _ = c.connect(SINK, self.port, source_address=(source, 0))
        assert code == 220, code
        c.ehlo("good.example")
        c.mail("good@sender.example")
        code, _ = c.rcpt("rcpt@sink.example")
        assert code == 250, code
        code, text = c.data(b"Subject: good\r\n\r\nwell behaved\r\n")
        assert code == 250 and text.startswith(b"2.0.0"), (code, text)
        with self.good_lock:
            self.accepted += 1
        c.quit()

    def good_in_background(self, n=3, gap=0.3):
        """Run n good clients during a hostile test; join() re-raises."""
        errors = []

        def run():
            try:
                for i in range(n):
                    self.good_client()
                    time.sleep(gap)
            except Exception as e:  # reported by join
                errors.append(e)

        t = threading.Thread(target=run)
        t.start()

        def join():
            t.join(60)
            assert not t.is_alive(), "good client hung"
            if errors:
                raise errors[0]
        return join

    # -- tests (run in this order) ----------------------------------------------

    def test_01_slowloris_idle(self):
        """Half a command, then silence: 421 4.4.2 after the idle timeout."""
        self.server()
        s = connect(SINK, self.port, "127.0.32.1")
        self.count_conn()
        assert read_until(s, lines_done(1))[0] == SINK_GREET
        s.sendall(b"EH")
        t0 = time.time()
        self.good_client()
        data = read_to_eof(s, 10)
        dt = time.time() - t0
        assert data == TIMEOUT_R, data
        assert IDLE_S - 0.1 <= dt <= IDLE_S + 2.5, dt
        s.close()

    def test_02_slowloris_session(self):
        """A byte every 0.4 s keeps the session from idling; the total
        session timeout still ends it with 421 4.4.2."""
        self.server()
        s = connect(SINK, self.port, "127.0.32.2")
        self.count_conn()
        t0 = time.time()
        join = self.good_in_background(3, 1.0)
        drip = b"NOOP\r\n" * 40
        got = b""
        s.settimeout(0.4)
        for b in drip:
            try:
                s.send(bytes([b]))
            except OSError:
                break
            try:
                d = s.recv(4096)
                if not d:
                    break
                got += d
            except socket.timeout:
                pass
            except ConnectionResetError:
                break       # closed with our unread byte: RST after the 421
            if time.time() - t0 > SESSION_S + 5:
                break
        got += read_to_eof(s, 5)
        dt = time.time() - t0
        join()
        n_ok = got.count(OK_R)
        assert got == SINK_GREET + OK_R * n_ok + TIMEOUT_R, got
        assert n_ok >= 2, n_ok
        assert SESSION_S - 0.1 <= dt <= SESSION_S + 2.5, dt
        s.close()

    def test_03_long_lines(self):
        """100 KB command lines: 500 5.5.2 each, and the session goes on."""
        self.server()
        join = self.good_in_background(2)
        s = connect(SINK, self.port, "127.0.33.1")
        self.count_conn()
        big = b"x" * 100000
        s.sendall(b"NOOP " + big + b"\r\nEHLO " + big + b"\r\nNOOP\r\n"
                  b"EHLO ok.example\r\nQUIT\r\n")
        data = read_to_eof(s, 15)
        join()
        want = (SINK_GREET + b"500 5.5.2 Line too long\r\n" * 2 + OK_R +
                SINK_EHLO % b"127.0.33.1" +
                b"221 2.0.0 sink.mxsim.test closing connection\r\n")
        assert data == want, data
        s.close()

    def test_04_nul_and_8bit(self):
        """NUL, control and 8-bit bytes: unknown verb 500, bad addresses
        501, kept in HELO and message text; replies never echo them raw."""
        self.server()
        join = self.good_in_background(2)
        s = connect(SINK, self.port, "127.0.34.1")
        self.count_conn()
        s.sendall(b"EH\x00LO x\r\nEHLO \xff\x00h\x01st\r\n"
                  b"MAIL FROM:<\xe9t\xe9@x.example>\r\n"
                  b"MAIL FROM:<a\x00b@x.example>\r\n"
                  b"MAIL FROM:<a@x.example>\r\n"
                  b"RCPT TO:<a\x00b@c.example>\r\nRCPT TO:<a\x7f@c.example>\r\n"
                  b"RCPT TO:<ok@c.example>\r\nDATA\r\n"
                  b"\x00\xff\x01 8-bit \xe9\r\n.\r\nQUIT\r\n")
        data = read_to_eof(s, 10)
        join()
        e501 = b"501 5.5.4 Syntax error in parameters or arguments\r\n"
        want = (SINK_GREET + b"500 5.5.1 Command unrecognized\r\n" +
                SINK_EHLO % b"127.0.34.1" + e501 * 2 +
                b"250 2.1.0 Sender OK\r\n" + e501 * 2 +
                b"250 2.1.5 Recipient OK\r\n"
                b"354 Start mail input; end with <CRLF>.<CRLF>\r\n"
                b"250 2.0.0 OK: queued\r\n"
                b"221 2.0.0 sink.mxsim.test closing connection\r\n")
        assert data == want, data
        self.accepted += 1
        s.close()

    def test_05_pipelined_megabyte(self):
        """1 MB of NOOPs per client, 20 clients, replies never read: the
        server stops processing once its 4 KB output buffer is full (the
        kernel's socket buffers absorb the megabyte, so this is seen in
        the replies: a small part answered), the idle timeout then
        disconnects each, and mxsim's memory stays bounded."""
        m = self.server()
        rss0 = rss_kb(m.proc.pid)
        payload = b"NOOP\r\n" * ((1 << 20) // 6 + 1)
        socks = []
        for i in range(20):
            s = socket.socket()
            s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
            s.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4096)
            s.bind(("127.0.35.%d" % (i + 1), 0))
            s.connect((SINK, self.port))
            s.setblocking(False)
            socks.append([s, 0])
        self.count_conn(len(socks))
        # push until every sender is stuck (nothing more accepted for 1 s)
        end = time.time() + 2 * IDLE_S
        last_progress = time.time()
        while time.time() < end and time.time() - last_progress < 1.0:
            for st in socks:
                if st[1] >= len(payload):
                    continue
                try:
                    n = st[0].send(payload[st[1]:st[1] + 65536])
                    st[1] += n
                    last_progress = time.time()
                except (BlockingIOError, InterruptedError):
                    pass
            time.sleep(0.01)
        rss1 = rss_kb(m.proc.pid)
        sent = [st[1] for st in socks]
        self.good_client()
        # not reading: the server must give up on each (idle timeout)
        time.sleep(IDLE_S + 2)
        for st in socks:
            st[0].setblocking(True)
        t0 = time.time()
        answered = []
        for st in socks:
            data = read_to_eof(st[0], IDLE_S + 8)
            body = data[len(SINK_GREET):]
            assert data.startswith(SINK_GREET), data[:100]
            n_ok = body.count(OK_R)
            # every reply is a NOOP's, then a 421 if it fitted; the close
            # with unread input is an RST, which may cut the last reply
            rest = body[len(OK_R) * n_ok:]
            assert body.startswith(OK_R * n_ok) and (
                OK_R.startswith(rest) or TIMEOUT_R.startswith(rest)), body[-200:]
            # the server stopped reading: it answered a small part only
            answered.append(n_ok)
            st[0].close()
        dt = time.time() - t0
        assert dt <= IDLE_S + 8, dt
        rss2 = rss_kb(m.proc.pid)
        print("    pipelining: %d KB sent per client (of %d KB), at most %d "
              "NOOPs answered, mxsim RSS %d -> %d -> %d KB"
              % (sum(sent) // len(sent) // 1024, len(payload) // 1024,
                 max(answered), rss0, rss1, rss2))
        assert rss1 - rss0 < 16 * 1024, (rss0, rss1)

    def test_06_rst_in_data(self):
        """RST in the middle of DATA: nothing is counted as accepted."""
        self.server()
        join = self.good_in_background(2)
        for i in range(5):
            s = connect(SINK, self.port, "127.0.36.1")
            self.count_conn()
            s.sendall(b"EHLO rst.example\r\nMAIL FROM:<r@rst.example>\r\n"
                      b"RCPT TO:<x@sink.example>\r\nDATA\r\n")
            read_until(s, lambda d: b"354 " in d)
            s.sendall(b"Subject: cut\r\n\r\n" + b"half a message\r\n" * 500)
            s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                         struct.pack("ii", 1, 0))
            s.close()
        join()
        time.sleep(0.5)
        # checked against the event log in test_99

    def test_07_connection_flood(self):
        """10,000 connections from one IP to gmail in waves of 1,000 (and
        2,000 to microsoft): the profile's limit answers 421 4.7.0 / 451 4.7.652
        (Gmail's after its 220 greeting, to EHLO; Microsoft's instead of
        the greeting), the rest get 220 / 250, nothing crashes, good
        clients are served."""
        m = self.server()
        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        if soft < 4096:
            resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, 8192), hard))
        gmail_refuse = re.compile(
            rb"^421 4\.7\.0 Try again later, closing connection\. "
            rb"[0-9a-f]{16} - gsmtp\r\n$")
        gmail_ok = re.compile(rb"^250-mx\.google\.com at your service")
        gmail_greet = re.compile(rb"^220 mx\.google\.com ESMTP [0-9a-f]{16} - gsmtp\r\n$")
        ms_refuse = re.compile(
            rb"^451 4\.7\.652 The mail server \[127\.0\.40\.2\] has exceeded "
            rb"the maximum number of connections\. \(S3115\) "
            rb"\[BL2NAM06FT004\.eop-nam06\.prod\.protection\.outlook\.com\]"
            rb"\r\n$")
        ms_ok = re.compile(rb"^220 BL2NAM06FT004\.mail\.protection\.outlook\.com Microsoft ESMTP MAIL Service ready\r\n$")
        self.flood = {}
        for mx, src, total, limit, ok_re, refuse_re, greet_re in (
                (GMAIL, "127.0.40.1", 10000, 20, gmail_ok, gmail_refuse,
                 gmail_greet),
                (MS, "127.0.40.2", 2000, 50, ms_ok, ms_refuse, None)):
            ok = refused = 0
            for wave in range(total // 1000):
                socks = []
                for i in range(1000):
                    socks.append(connect(mx, self.port, src))
                    if greet_re is not None:
                        # at once, so no idle timeout comes first
                        socks[-1].sendall(b"EHLO flood.test\r\n")
                self.count_conn(len(socks))
                if wave == 0:
                    self.good_client()
                w_ok = 0
                for s in socks:
                    if greet_re is not None:
                        # the refusal answers EHLO, after the greeting
                        data, eof = read_until(s, lines_done(2))
                        greet, line = data.split(b"\r\n", 1)
                        assert greet_re.match(greet + b"\r\n"), data
                    else:
                        line, eof = read_until(
                            s, lambda d: d.endswith(b"\r\n"))
                    if refuse_re.match(line):
                        refused += 1
                        assert read_to_eof(s, 5) == b""
                    else:
                        assert ok_re.match(line), line
                        w_ok += 1
                if wave == 0:
                    assert w_ok == limit, (mx, w_ok)
                assert 1 <= w_ok <= limit, (mx, wave, w_ok)
                ok += w_ok
                for s in socks:
                    s.close()
                time.sleep(0.5)
            assert ok + refused == total
            self.flood[(mx, src)] = (ok, refused)
            print("    %s: %d connections from %s: %d x 220, %d refused"
                  % (mx, total, src, ok, refused))
        assert m.proc.poll() is None, "mxsim died"
        self.good_client()

    def test_08_data_without_mail(self):
        """DATA before MAIL: 503 5.5.1 (sink and gmail wording)."""
        self.server()
        s = connect(SINK, self.port, "127.0.37.1")
        self.count_conn()
        s.sendall(b"EHLO c\r\nDATA\r\nQUIT\r\n")
        data = read_to_eof(s)
        assert data == (SINK_GREET + SINK_EHLO % b"127.0.37.1" +
                        b"503 5.5.1 Bad sequence of commands\r\n"
                        b"221 2.0.0 sink.mxsim.test closing connection\r\n"), data
        s = connect(GMAIL, self.port, "127.0.37.1")
        self.count_conn()
        s.sendall(b"EHLO c\r\nDATA\r\nQUIT\r\n")
        data = read_to_eof(s)
        sid = re.search(rb"ESMTP ([0-9a-f]{16}) - gsmtp", data).group(1)
        assert b"\r\n503 5.5.1 Bad sequence of commands %s - gsmtp\r\n" % sid in data, data
        self.good_client()

    def test_09_size(self):
        """SIZE over the profile's max_message_size (1000): 552 5.3.4 at
        MAIL for the declared size, at end of DATA for the actual one."""
        self.server()
        s = connect(SMALL, self.port, "127.0.38.1")
        self.count_conn()
        big = b"Subject: big\r\n\r\n" + (b"y" * 98 + b"\r\n") * 12      # 1216
        small = b"Subject: small\r\n\r\n" + (b"z" * 98 + b"\r\n") * 5  # 518
        env = b"MAIL FROM:<a@b.example>\r\nRCPT TO:<c@small.example>\r\nDATA\r\n"
        s.sendall(b"EHLO c\r\nMAIL FROM:<a@b.example> SIZE=2000\r\n" + env +
                  big + b".\r\n" + env + small + b".\r\nQUIT\r\n")
        data = read_to_eof(s)
        sz = b"552 5.3.4 Message size %d exceeds fixed limit of 1000 bytes\r\n"
        go = (b"250 2.1.0 Sender OK\r\n250 2.1.5 Recipient OK\r\n"
              b"354 Start mail input; end with <CRLF>.<CRLF>\r\n")
        want = (b"220 mx.small.example ESMTP ready\r\n"
                b"250-mx.small.example Hello [127.0.38.1]\r\n250-PIPELINING\r\n"
                b"250-8BITMIME\r\n250-ENHANCEDSTATUSCODES\r\n250 SIZE 1000\r\n" +
                sz % 2000 + go + sz % len(big) + go +
                b"250 2.0.0 OK: queued\r\n"
                b"221 2.0.0 mx.small.example closing connection\r\n")
        assert data == want, data
        self.accepted += 1
        self.good_client()

    def test_10_pool_full(self):
        """A worker whose connection pool is full (--max-conns 2) answers
        the profile's protocol.busy (Gmail: 421 4.4.5) and closes; the
        reply is in the event log, the exit summary and /metrics."""
        for attempt in range(8):
            # a metrics port free now; another on a clash with a
            # concurrent run (the SMTP port has start_mxsim's own retry)
            mport = free_port()
            try:
                m, port = start_mxsim(self.bin, ["-c", SCENARIO, "--workers", "1",
                                                 "--max-conns", "2", "--metrics",
                                                 "127.0.0.1:%d" % mport])
                break
            except RuntimeError as e:
                if "--metrics" not in str(e) or attempt == 7:
                    raise
        try:
            held = [connect(GMAIL, port, "127.0.39.1") for _ in range(2)]
            for s in held:
                line, _ = read_until(s, lambda d: d.endswith(b"\r\n"))
                assert line.startswith(b"220 mx.google.com ESMTP"), line
            s = connect(GMAIL, port, "127.0.39.1")
            data = read_to_eof(s)
            assert re.match(rb"^421 4\.4\.5 Server busy, try again later\. "
                            rb"[0-9a-f]{16} - gsmtp\r\n$", data), data
            s.close()
            page = urllib.request.urlopen(
                "http://127.0.0.1:%d/metrics" % mport, timeout=10).read()
            assert re.search(rb'^mxsim_replies_total\{provider="gmail",'
                             rb'[^}]*reason="protocol\.busy"[^}]*\} 1$', page,
                             re.M), page
            for h in held:
                h.close()
        finally:
            rc, out, err = m.stop()
        assert rc == 0, (rc, err[-2000:])
        assert "runtime error" not in err and "AddressSanitizer" not in err, err[-3000:]
        with open(m.events) as f:
            ev = [json.loads(line) for line in f]
        busy = [e for e in ev if e["reason"] == "protocol.busy"]
        assert len(busy) == 1, busy
        assert (busy[0]["stage"], busy[0]["code"], busy[0]["enhanced"],
                busy[0]["provider"], busy[0]["client"]) == \
            ("connect", 421, "4.4.5", "gmail", "127.0.39.1"), busy[0]
        assert re.search(r"^gmail\s+protocol\.busy\s+421 4\.4\.5\s+1$", out,
                         re.M), out
        tot = re.search(r"connections (\d+),", out)
        assert tot and int(tot.group(1)) == 3, out

    def test_99_accounting(self):
        """Event log, exit summary and the clients' tallies agree."""
        m = self.server()
        time.sleep(0.5)
        rc, out, err = m.stop()
        self.m = None
        assert rc == 0, (rc, err[-2000:])
        assert "ERROR: AddressSanitizer" not in err and "runtime error" not in err, err[-3000:]
        with open(m.events) as f:
            ev = [json.loads(line) for line in f]
        w = re.search(r"event log .*: (\d+) events written, (\d+) dropped", err)
        assert w and int(w.group(1)) == len(ev) and w.group(2) == "0", (w, len(ev))
        tot = re.search(r"connections (\d+), messages accepted (\d+) \((\d+) "
                        r"recipients\), 4xx replies (\d+), 5xx replies (\d+)", out)
        assert tot, out
        conns, msgs, rcpts, n4, n5 = map(int, tot.groups())
        eod_ok = [e for e in ev if e["stage"] == "eod" and e["code"] == 250]
        assert conns == self.connections, (conns, self.connections)
        assert msgs == len(eod_ok) == self.accepted, (msgs, len(eod_ok), self.accepted)
        assert rcpts == sum(e["nrcpts"] for e in eod_ok), rcpts
        assert n4 == sum(400 <= e["code"] < 500 for e in ev), n4
        assert n5 == sum(500 <= e["code"] < 600 for e in ev), n5
        # nothing from the RST-in-DATA client reached end of DATA
        rst = [e for e in ev if e["client"] == "127.0.36.1"]
        assert rst and not any(e["stage"] == "eod" for e in rst), rst[-3:]
        # every summary row equals its count of events
        rows = re.findall(r"^(\S+)\s+(\S+)\s+(\d{3}) (\S+)\s+(\d+)$", out, re.M)
        assert rows, out
        for prov, reason, code, enh, n in rows:
            k = sum(e["provider"] == prov and e["reason"] == reason for e in ev)
            assert k == int(n), (prov, reason, n, k)
        # the flood: each connection answered once at connect (Gmail's
        # refusals with 220 there, then conn.limit at ehlo)
        for (mx, src), (ok, refused) in getattr(self, "flood", {}).items():
            con = [e for e in ev if e["mx"] == mx and e["client"] == src and
                   e["stage"] == "connect"]
            lim = [e for e in ev if e["mx"] == mx and e["client"] == src and
                   e["reason"] == "conn.limit"]
            held = sum(e["stage"] == "ehlo" for e in lim)
            assert held in (0, refused), (mx, held, refused)
            assert sum(e["code"] == 220 for e in con) == ok + held, mx
            assert len(lim) == refused, mx

    def test_memory_idle(self):
        """Memory per idle session: 5,000 idle connections to the sink of
        the bundled scenario (idle timeout 300 s)."""
        m, port = start_mxsim(self.bin, ["-c", DEFAULT, "-q"])
        socks = []
        try:
            soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
            if soft < 12000:
                resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, 16384), hard))
            time.sleep(0.3)
            rss0 = rss_kb(m.proc.pid)
            for i in range(5000):
                s = connect(SINK, port, "127.0.50.%d" % (i % 250 + 1))
                socks.append(s)
            for s in socks:
                assert read_until(s, lambda d: d.endswith(b"\r\n"))[0] == SINK_GREET
            time.sleep(0.5)
            rss1 = rss_kb(m.proc.pid)
            per = (rss1 - rss0) * 1024 / len(socks)
            print("    5000 idle sessions: mxsim RSS %d -> %d KB, %.0f bytes "
                  "per session" % (rss0, rss1, per))
            assert per < 128 * 1024, per
        finally:
            for s in socks:
                s.close()
            rc, out, err = m.stop()
        assert rc == 0, err[-2000:]


if __name__ == "__main__":
    sys.exit(run_suite("hostile", Suite, width=30))
