#!/usr/bin/env python3
"""Wire tests of issue 16's receiver mechanisms, through real sockets
against a real mxsim on loopback with the bundled profiles unchanged:
Mimecast's triplet greylisting (first attempt deferred, a retry after the
delay accepted, judged on the simulated clock of the event log, never on
wall time), GMX's multi-line replies without enhanced codes, and the
client facts T-Online answers at connect.  Every documented row of these
profiles is driven by tests/e2e/test_rows.py; this suite covers what a
row cannot express (a retry after a delay, the exact line form).

Usage: test_receivers.py --build BUILD_DIR [TEST_NAME ...]
Addresses: MX 127.79.N.x, clients 127.80.N.x (unused by other suites).
"""
import os
import shutil
import subprocess
import sys
import tempfile
import time

import yaml

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from mxsim_proc import (Client, Mxsim, Skip, free_ports, read_events,  # noqa: E402
                        run_suite)

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PROFILES = os.path.join(ROOT, "profiles")
MX = {"mimecast": "127.79.1.5", "gmx": "127.79.2.5", "t-online": "127.79.3.5",
      "comcast": "127.79.4.5", "orange": "127.79.5.5", "yandex": "127.79.6.5",
      "proofpoint": "127.79.7.5"}
# Mimecast's greylist delay (profiles/mimecast.yaml greylist.delay), ms
DELAY_MS = 60000
SCALE = 600          # a simulated minute is 0.1 real second


class Suite:
    def __init__(self, build):
        self.bin = os.path.join(build, "sim", "mxsim")
        self.dir = tempfile.mkdtemp(prefix="mxsim-recv-")
        scen = {
            "seed": 7, "time_scale": SCALE,
            "servers": [{"profile": os.path.join(PROFILES, p + ".yaml"),
                         "addresses": [MX[p].rsplit(".", 1)[0] + ".0/24"]}
                        for p in MX],
            "blocklist": ["127.80.9.0/24"],
            "clients": {"dialup": ["127.80.10.0/24"],
                        "no_reputation": ["127.80.11.0/24"]},
        }
        self.port, self.dns = free_ports(2)
        scen["dns"] = {"listen": "127.0.0.1:%d" % self.dns}
        self.scen = os.path.join(self.dir, "scenario.yaml")
        with open(self.scen, "w") as f:
            yaml.safe_dump(scen, f)
        self.mx = Mxsim(self.bin, ["-c", self.scen, "-w", "1", "-q"],
                        self.port)

    def close(self):
        self.mx.stop()
        shutil.rmtree(self.dir, ignore_errors=True)

    def events(self, client):
        # the log is written as replies go out; give the writer a moment
        for _ in range(50):
            ev = [e for e in read_events(self.mx.events)
                  if e["client"] == client]
            if ev:
                return ev
            time.sleep(0.05)
        return []

    def test_mimecast_greylist_retry(self):
        """The first attempt of a triplet is 451 at RCPT; retries are 451
        until the delay has passed on the simulated clock, then accepted,
        and the triplet stays accepted.  Another recipient is its own
        triplet."""
        src, sender = "127.80.1.1", "news@shop.example"
        rcpt = "alice@mimecast-customer.example"
        outcomes = []
        for _ in range(200):            # bounded: 200 x 0.02 s > 6 s real
            c = Client(MX["mimecast"], self.port, src)
            outcomes.append(c.message(sender, rcpt))
            c.close()
            if outcomes[-1][1] == 250:
                break
            time.sleep(0.02)
        assert outcomes[0][:2] == ("rcpt", 451), outcomes[0]
        assert b"Internal resource is temporarily unavailable" in \
            outcomes[0][2], outcomes[0]
        assert outcomes[-1][:2] == ("eod", 250), outcomes[-1]
        c = Client(MX["mimecast"], self.port, src)
        again = c.message(sender, rcpt)
        other = c.message(sender, "bob@mimecast-customer.example")
        c.close()
        assert again[:2] == ("eod", 250), again
        assert other[:2] == ("rcpt", 451), other
        ev = [e for e in self.events(src) if e["stage"] in ("rcpt", "eod")
              and e["rcpt"] in (rcpt, None)]
        rc = [e for e in ev if e["stage"] == "rcpt" and e["rcpt"] == rcpt]
        first = rc[0]["sim_ms"]
        assert rc[0]["reason"] == "greylist", rc[0]
        for e in rc:
            # deferred exactly while the delay runs, on simulated time
            if e["code"] == 451:
                assert e["sim_ms"] - first < DELAY_MS, e
            else:
                assert e["code"] == 250 and e["sim_ms"] - first >= DELAY_MS, e

    def test_gmx_multiline(self):
        """GMX: the blocklist banner is four lines, each with the code
        only (no enhanced code), the postmaster URL last; no
        ENHANCEDSTATUSCODES, and success replies carry none either."""
        import socket
        s = socket.create_connection((MX["gmx"], self.port), timeout=10,
                                     source_address=("127.80.9.1", 0))
        f = s.makefile("rb")
        lines = []
        while True:
            ln = f.readline().decode()
            lines.append(ln)
            if ln[3] == " ":
                break
        s.close()
        assert [ln[:4] for ln in lines] == ["554-"] * 3 + ["554 "], lines
        assert all(ln.endswith("\r\n") for ln in lines), lines
        assert "Nemesis ESMTP Service not available" in lines[0], lines
        assert "c=bl" in lines[3] and "ip=127.80.9.1" in lines[3], lines
        c = Client(MX["gmx"], self.port, "127.80.2.1")
        assert b"ENHANCEDSTATUSCODES" not in c.ehlo[1], c.ehlo
        code, text = c.cmd("MAIL FROM:<a@shop.example>")
        c.close()
        assert code == 250 and not text[:1].isdigit(), text

    def test_tonline_connect_facts(self):
        """T-Online: (BL), (DIAL) and (NOWL) in the 554 banner from the
        scenario's blocklist and client facts; others get 220."""
        import smtplib
        for src, tag in (("127.80.9.2", "(BL)"), ("127.80.10.2", "(DIAL)"),
                         ("127.80.11.2", "(NOWL)")):
            s = smtplib.SMTP(timeout=10)
            code, text = s.connect(MX["t-online"], self.port,
                                   source_address=(src, 0))
            s.close()
            assert code == 554 and text.endswith(tag.encode()), (src, text)
            assert ("IP=%s" % src).encode() in text, text
        c = Client(MX["t-online"], self.port, "127.80.3.1")
        assert c.greeting[0] == 220, c.greeting
        c.close()

    def test_dns_mx_hosts(self):
        """mxsim's DNS serves each new receiver's domains with MX records
        naming its hosts under the provider's real suffix, and A records
        of those hosts inside the profile's block."""
        if shutil.which("dig") is None:
            raise Skip("dig is not installed")
        suffix = {"mimecast": ".mimecast.com.", "gmx": ".gmx.net.",
                  "t-online": ".t-online.de.", "comcast": ".comcast.net.",
                  "orange": ".orange.fr.", "yandex": ".yandex.ru.",
                  "proofpoint": ".ppe-hosted.com."}

        def dig(qtype, name):
            p = subprocess.run(["dig", "@127.0.0.1", "-p", str(self.dns),
                                "+short", "+time=3", "+tries=2", qtype, name],
                               capture_output=True, text=True, timeout=20)
            assert p.returncode == 0, p.stderr
            return p.stdout.split("\n")[:-1]

        for name, mx in MX.items():
            with open(os.path.join(PROFILES, name + ".yaml")) as f:
                prof = yaml.safe_load(f)
            block = mx.rsplit(".", 1)[0] + "."
            for dom in prof["domains"]:
                hosts = sorted(ln.split()[1] for ln in dig("MX", dom))
                assert hosts == sorted(h + "." for h in prof["mx_hosts"]), \
                    (dom, hosts)
            host = prof["mx_hosts"][0]
            assert (host + ".").endswith(suffix[name]), host
            a = dig("A", host)
            assert len(a) == 1 and a[0].startswith(block), (host, a)


if __name__ == "__main__":
    sys.exit(run_suite("receivers", Suite))
