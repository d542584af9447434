#!/usr/bin/env python3
"""End-to-end tests: a real mxsim on loopback, driven by smtplib, swaks
and mxload from several source addresses, asserting exact replies.

Usage: test_e2e.py --build BUILD_DIR [TEST_NAME ...]
Prints one line per test and ends with "e2e: N passed, N failed".
"""
import json
import os
import re
import shutil
import subprocess
import sys
import time

import yaml

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from mxsim_proc import Client, Mxsim, enhanced, free_port, read_events, run_suite  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PROFILES = os.path.join(ROOT, "profiles")

GMAIL_MX = "127.1.0.5"
MS_MX = "127.2.0.5"
YAHOO_MX = "127.3.0.5"
GENERIC_MX = "127.4.0.5"
SINK_MX = "127.0.0.1"


def profile(name):
    with open(os.path.join(PROFILES, name + ".yaml")) as f:
        return yaml.safe_load(f)


class Suite:
    def __init__(self, build):
        self.build = build
        self.mxsim_bin = os.path.join(build, "sim", "mxsim")
        self.mxload_bin = os.path.join(build, "harness", "mxload")

    def start(self, *args):
        self.port = free_port()
        return Mxsim(self.mxsim_bin, args, self.port)

    # -- tests --------------------------------------------------------------

    def test_gmail_rate_ip(self):
        """250 up to gmail's per-IP minute limit, then 421 4.7.28 at EOD."""
        limit = profile("gmail")["limits"]["per_ip"]["messages"]["minute"]
        m = self.start()
        try:
            c = Client(GMAIL_MX, self.port, "127.0.20.1")
            assert c.greeting[0] == 220, c.greeting
            assert b"gsmtp" in c.greeting[1], c.greeting
            results = []
            for i in range(limit + 1):
                r = c.message("a%d@rate.example" % i, ["user%d@gmail.com" % i])
                results.append(r)
                if r[1] != 250:
                    break
            assert all(r == results[0][:1] + (250,) + r[2:] for r in results[:limit]), results[:3]
            assert len(results) == limit + 1, (len(results), results[-1])
            stage, code, text = results[-1]
            assert (stage, code, enhanced(text)) == ("eod", 421, "4.7.28"), results[-1]
            assert b"unusual rate" in text and b"127.0.20.1" in text, text
            # another sending IP is not limited
            c2 = Client(GMAIL_MX, self.port, "127.0.20.2")
            r = c2.message("b@rate2.example", ["someone@gmail.com"])
            assert r[1] == 250, r
            c2.close()
        finally:
            rc, out, err = m.stop()
        assert rc == 0, (rc, err)
        ev = read_events(m.events)
        eod = [e for e in ev if e["stage"] == "eod" and e["client"] == "127.0.20.1"]
        assert sum(e["code"] == 250 for e in eod) == limit
        assert [e["reason"] for e in eod if e["code"] != 250] == ["rate.ip"]
        assert "rate.ip" in out and "gmail" in out, out

    def test_gmail_unauthenticated(self):
        """An unauthenticated sender domain gets 421 4.7.26, authenticated 250."""
        m = self.start()
        try:
            c = Client(GMAIL_MX, self.port, "127.0.21.1")
            r = c.message("x@auth.example", ["u1@gmail.com"])
            assert r[:2] == ("eod", 250), r
            c.close()
            c = Client(GMAIL_MX, self.port, "127.0.21.2")
            stage, code, text = c.message("x@unauth.example", ["u2@gmail.com"])
            assert (stage, code, enhanced(text)) == ("eod", 421, "4.7.26"), (stage, code, text)
            assert b"unauthenticated" in text, text
        finally:
            rc, out, err = m.stop()
        assert rc == 0, err

    def test_generic_rate(self):
        """generic: 421 4.7.26 'Email rate limit exceeded' past its per-IP limit."""
        limit = profile("generic")["limits"]["per_ip"]["messages"]["minute"]
        m = self.start()
        try:
            c = Client(GENERIC_MX, self.port, "127.0.22.1")
            codes = []
            for i in range(limit + 1):
                r = c.message("g@gen.example", ["r%d@generic.example" % i])
                codes.append(r)
                if r[1] != 250:
                    break
            assert len(codes) == limit + 1, (len(codes), codes[-1])
            stage, code, text = codes[-1]
            assert (code, enhanced(text)) == (421, "4.7.26"), codes[-1]
            assert b"Email rate limit exceeded" in text, text
        finally:
            m.stop()

    def test_reputation_collapse(self):
        """Unknown users lower the IP's score: 421 4.7.0, then 550 5.7.1."""
        g = profile("gmail")["reputation"]
        pen = g["penalties"]["user_unknown"]
        to_temp = int((g["initial"] - g["temp_below"]) / pen) + 1
        to_block = int((g["initial"] - g["block_below"]) / pen) + 1
        m = self.start()
        try:
            c = Client(GMAIL_MX, self.port, "127.0.23.1")
            r = c.message("a@collapse.example", ["ok@gmail.com"])
            assert r[:2] == ("eod", 250), r
            c.cmd("MAIL FROM:<a@collapse0.example>")
            sent = 0
            for i in range(to_temp):
                code, text = c.cmd("RCPT TO:<unknown%d@gmail.com>" % i)
                assert (code, enhanced(text)) == (550, "5.1.1"), (code, text)
                sent += 1
            c.cmd("RSET")
            stage, code, text = c.message("a@collapse1.example", ["ok@gmail.com"])
            assert (stage, code, enhanced(text)) == ("eod", 421, "4.7.0"), (stage, code, text)
            c = Client(GMAIL_MX, self.port, "127.0.23.1")
            c.cmd("MAIL FROM:<a@collapse2.example>")
            while sent < to_block:
                code, text = c.cmd("RCPT TO:<nobody@gmail.com>")
                assert code == 550, (code, text)
                sent += 1
            c.cmd("RSET")
            stage, code, text = c.message("a@collapse3.example", ["ok@gmail.com"])
            assert (stage, code, enhanced(text)) == ("eod", 550, "5.7.1"), (stage, code, text)
            c.close()
        finally:
            m.stop()

    def test_swaks_sources(self):
        """swaks from several source addresses; yahoo refuses a blocklisted IP."""
        if shutil.which("swaks") is None:
            raise AssertionError("swaks is not installed")
        m = self.start()
        try:
            for i, (mx, rcpt) in enumerate([(GMAIL_MX, "a@gmail.com"),
                                            (MS_MX, "b@outlook.com"),
                                            (YAHOO_MX, "c@yahoo.com"),
                                            (SINK_MX, "d@sink.example")]):
                src = "127.0.24.%d" % (i + 1)
                p = subprocess.run(["swaks", "--server", mx, "--port", str(self.port),
                                    "--local-interface", src, "--from", "s@auth.example",
                                    "--to", rcpt, "--timeout", "20"],
                                   capture_output=True, text=True, timeout=60)
                assert p.returncode == 0, (mx, p.stdout[-800:])
                assert re.search(r"<-  250 2\.\d\.\d", p.stdout), p.stdout[-800:]
            p = subprocess.run(["swaks", "--server", YAHOO_MX, "--port", str(self.port),
                                "--local-interface", "127.0.66.1", "--from", "s@auth.example",
                                "--to", "c@yahoo.com", "--timeout", "20"],
                               capture_output=True, text=True, timeout=60)
            assert p.returncode != 0
            assert "553 5.7.1 [BL21]" in p.stdout, p.stdout[-800:]
        finally:
            rc, out, err = m.stop()
        ev = read_events(m.events)
        clients = {e["client"] for e in ev if e["stage"] == "eod" and e["code"] == 250}
        assert {"127.0.24.1", "127.0.24.2", "127.0.24.3", "127.0.24.4"} <= clients, clients

    def test_protocol(self):
        """Pipelined commands in one write, bad sequences, unknown commands."""
        import socket
        m = self.start()
        try:
            s = socket.create_connection((SINK_MX, self.port), timeout=10,
                                         source_address=("127.0.25.1", 0))
            f = s.makefile("rb")
            assert f.readline().startswith(b"220 ")
            s.sendall(b"EHLO x\r\nMAIL FROM:<a@b.example>\r\nRCPT TO:<c@d.example>\r\n"
                      b"DATA\r\nSubject: x\r\n\r\n..dot\r\n.\r\nRCPT TO:<e@f>\r\n"
                      b"XYZZY\r\nQUIT\r\n")
            lines = f.read().split(b"\r\n")
            codes = [l[:4] for l in lines if l]
            caps = [l for l in lines if l.startswith(b"250-") or l.startswith(b"250 ")]
            assert b"250-PIPELINING" in lines or b"250 PIPELINING" in lines, lines
            tail = [c for c in codes if c not in (b"250-",)]
            assert tail[-6:] == [b"250 ", b"354 ", b"250 ", b"503 ", b"500 ", b"221 "], lines
            assert caps
            s.close()
        finally:
            m.stop()

    def test_mxload_sink_and_summary(self):
        """mxload against the sink: everything accepted; counts agree everywhere."""
        m = self.start("--workers", "2")
        try:
            p = subprocess.run([self.mxload_bin, "-t", "sink=%s:%d" % (SINK_MX, self.port),
                                "-s", "127.0.26.0/29", "-n", "500", "-c", "8", "-m", "5",
                                "--json", os.path.join(m.dir, "load.json")],
                               capture_output=True, text=True, timeout=120)
            assert p.returncode == 0, p.stdout + p.stderr
        finally:
            rc, out, err = m.stop()
        with open(os.path.join(m.dir, "load.json")) as f:
            load = json.load(f)
        text = json.dumps(load)
        assert '"accepted": 500' in text or '"accepted":500' in text, text[:600]
        ev = read_events(m.events)
        accepted = sum(1 for e in ev if e["stage"] == "eod" and e["code"] == 250)
        assert accepted == 500, accepted
        assert re.search(r"messages accepted 500\b", out), out

    def test_scaled_clock_windows(self):
        """time_scale 3600: an hour window clears in ~1 s; the day cap holds."""
        scn = os.path.join(ROOT, "tests", "data", "e2e_clock.yaml")
        m = self.start("-c", scn)
        try:
            c = Client("127.5.0.1", self.port, "127.0.28.1")
            for i in range(3):
                assert c.message("a@clock.example", ["u@capped.example"])[:2] == ("eod", 250)
            stage, code, text = c.message("a@clock.example", ["u@capped.example"])
            assert (stage, code, enhanced(text)) == ("mail", 421, "4.7.28"), (stage, code, text)
            assert b"Hourly limit of 3 messages from 127.0.28.1" in text, text
            time.sleep(2.2)         # 2.2 simulated hours
            c = Client("127.5.0.1", self.port, "127.0.28.1")
            for i in range(2):
                r = c.message("a@clock.example", ["u@capped.example"])
                assert r[:2] == ("eod", 250), r
            stage, code, text = c.message("a@clock.example", ["u@capped.example"])
            assert (stage, code, enhanced(text)) == ("mail", 421, "4.7.0"), (stage, code, text)
            assert b"Daily limit of 5 messages" in text, text
        finally:
            m.stop()

    def test_scaled_clock_day(self):
        """time_scale 86400: the daily cap clears after two simulated days."""
        scn = os.path.join(ROOT, "tests", "data", "e2e_clock.yaml")
        m = self.start("-c", scn, "--time-scale", "86400")
        try:
            for i in range(5):
                c = Client("127.5.0.2", self.port, "127.0.29.%d" % (i + 1))
                assert c.message("d@day.example", ["u@capped.example"])[:2] == ("eod", 250)
                c.close()
            c = Client("127.5.0.2", self.port, "127.0.29.9")
            r = c.message("d@day.example", ["u@capped.example"])
            assert r[:2] == ("mail", 421) and b"Daily limit" in r[2], r
            time.sleep(2.2)         # 2.2 simulated days
            c = Client("127.5.0.2", self.port, "127.0.29.9")
            r = c.message("d@day.example", ["u@capped.example"])
            assert r[:2] == ("eod", 250), r
            c.close()
        finally:
            m.stop()

    def test_idle_timeout(self):
        """A silent client gets 421 4.4.2 after the idle time, then EOF."""
        import socket
        scn = os.path.join(ROOT, "tests", "data", "e2e_timeout.yaml")
        m = self.start("-c", scn)
        try:
            s = socket.create_connection(("127.6.0.1", self.port), timeout=10,
                                         source_address=("127.0.31.1", 0))
            f = s.makefile("rb")
            assert f.readline().startswith(b"220 ")
            t0 = time.time()
            line = f.readline()
            waited = time.time() - t0
            assert re.match(rb"421[ -]4\.4\.2 ", line), line
            assert 0.9 <= waited <= 4.0, waited
            assert f.read() == b""
            s.close()
        finally:
            rc, out, err = m.stop()
        ev = read_events(m.events)
        assert ev[-1]["reason"] == "protocol.timeout" and ev[-1]["code"] == 421, ev[-1]

    def test_wide_range(self):
        """65,536 MX addresses in one process: one wildcard listener on lo;
        any served address greets, an address outside the scenario is
        dropped without a greeting."""
        import socket
        import tempfile
        scn = os.path.join(tempfile.mkdtemp(prefix="mxsim-wide-"), "wide.yaml")
        with open(scn, "w") as f:
            f.write("seed: 1\nport: 2525\nservers:\n"
                    "  - profile: sink\n    addresses: [127.64.0.0/16]\n")
        m = self.start("-c", scn)
        try:
            for mx in ("127.64.0.0", "127.64.3.7", "127.64.255.255"):
                c = Client(mx, self.port, "127.0.32.1")
                assert c.greeting[0] == 220, (mx, c.greeting)
                assert c.message("a@auth.example", ["u@sink.example"])[:2] == ("eod", 250)
                c.close()
            s = socket.create_connection(("127.65.0.1", self.port), timeout=10,
                                         source_address=("127.0.32.2", 0))
            assert s.recv(100) == b"", "an address outside the scenario was served"
            s.close()
        finally:
            rc, out, err = m.stop()
        assert "65536 MX addresses (1 listening sockets)" in err, err[:400]
        ev = read_events(m.events)
        mxs = {e["mx"] for e in ev if e["stage"] == "eod" and e["code"] == 250}
        assert mxs == {"127.64.0.0", "127.64.3.7", "127.64.255.255"}, mxs

    def test_seed_replays(self):
        """The same seed gives the same session ids; another seed does not."""
        greetings = []
        for seed in ("7", "7", "8"):
            m = self.start("--seed", seed, "--workers", "1")
            try:
                c = Client(GMAIL_MX, self.port, "127.0.30.1")
                greetings.append(c.greeting[1])
                c.close()
            finally:
                m.stop()
        assert greetings[0] == greetings[1], greetings
        assert greetings[0] != greetings[2], greetings

    def test_check(self):
        """--check accepts the bundled scenario and names line:column of errors."""
        p = subprocess.run([self.mxsim_bin, "--check", os.path.join(PROFILES, "default.yaml")],
                           capture_output=True, text=True)
        assert p.returncode == 0 and "OK" in p.stdout, p.stdout + p.stderr
        for name in ("gmail", "microsoft", "yahoo", "generic", "sink"):
            p = subprocess.run([self.mxsim_bin, "--check", os.path.join(PROFILES, name + ".yaml")],
                               capture_output=True, text=True)
            assert p.returncode == 0, p.stderr
        bad = os.path.join(ROOT, "tests", "data", "prof_unknown_key.yaml")
        p = subprocess.run([self.mxsim_bin, "--check", bad], capture_output=True, text=True)
        assert p.returncode == 1, p
        assert re.match(re.escape(bad) + r":\d+:\d+: ", p.stderr), p.stderr

    def test_shutdown_mid_session(self):
        """SIGTERM: sessions get the profile's shutdown reply (Gmail's
        421 4.3.0), the event log is complete."""
        import socket
        m = self.start()
        s = socket.create_connection((GMAIL_MX, self.port), timeout=10,
                                     source_address=("127.0.27.1", 0))
        f = s.makefile("rb")
        f.readline()
        s.sendall(b"HELO x\r\n")
        f.readline()
        m.proc.send_signal(15)
        line = f.readline()
        assert re.match(rb"421[ -]4\.3\.0 ", line), line
        rc, out, err = m.stop()
        assert rc == 0, err
        ev = read_events(m.events)
        assert ev[-1]["reason"] in ("protocol.shutdown",) or any(
            e["reason"] == "protocol.shutdown" for e in ev), ev[-3:]


if __name__ == "__main__":
    sys.exit(run_suite("e2e", Suite, width=34))
