#!/usr/bin/env python3
"""End-to-end tests of issue 16 item 6: IPv6 MX addresses and senders.

Over ::1 (loopback, root namespace): an MX served on ::1 beside IPv4 ones,
{ip} and the event log printing the IPv6 client, Microsoft's IPv6 rules
(550 5.7.25 without a PTR, 550 5.7.510 for a tenant taking no IPv6 mail,
451 4.7.26 without SPF or DKIM) that an IPv4 client never meets, AAAA
records of the MX hosts from mxsim's DNS server, and the DPDK backend
refusing IPv6 blocks at start.

In a network namespace the test creates (2001:db8:16::/48 routed to its
lo and ip_nonlocal_bind set there; skipped where namespaces cannot be made): MX addresses from a range,
and IPv6 senders keyed by ipv6_prefix (three addresses of one /64 share
one per-IP count; another /64 of the same /48 shares the /48 netblock).

Run: python3 tests/e2e/test_ipv6.py --build BUILD_DIR [TEST ...]"""
import ipaddress
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)
from mxsim_proc import (Client, Mxsim, Skip, enhanced, free_port,  # noqa: E402
                        read_events, run_suite)

DATA = os.path.join(ROOT, "tests", "data")
V4_MX = "127.0.216.1"           # unique to this file
V4_CLIENT = "127.0.217.1"
NS_NET = "2001:db8:16::/48"     # documentation prefix, inside the namespace
INSIDE = "--inside-netns"


def has_loopback6():
    try:
        s = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
        s.bind(("::1", 0))
        s.close()
        return True
    except OSError:
        return False


class Suite:
    def __init__(self, build):
        self.build = build
        self.bin = os.path.join(build, "sim", "mxsim")
        self.dir = tempfile.mkdtemp(prefix="mxsim-ipv6-")

    def close(self):
        shutil.rmtree(self.dir, ignore_errors=True)

    def scenario(self, name, text):
        path = os.path.join(self.dir, name + ".yaml")
        with open(path, "w") as f:
            f.write(text)
        return path

    def start(self, name, text, args=()):
        if not has_loopback6():
            raise Skip("no ::1 on this machine")
        port = free_port()
        return Mxsim(self.bin, ["-q", "-c", self.scenario(name, text)] +
                     list(args), port), port

    def test_loopback_mx(self):
        """An MX on ::1 beside an IPv4 one: {ip} and the log show ::1."""
        ctl = "127.0.216.80:%d" % free_port()
        m, port = self.start("loop", """\
servers:
  - {profile: microsoft, addresses: ["::1/128"]}
  - {profile: generic, addresses: [%s/32]}
""" % V4_MX, ["--control", ctl])
        try:
            c = Client("::1", port, "::1", helo="v6.client.test")
            code, text = c.ehlo
            assert code == 250 and b"Hello [::1]" in text, (code, text)
            got = c.message("a@v6.example", "bob@outlook.com")
            assert got[:2] == ("eod", 250), got
            c.close()
            c = Client(V4_MX, port, V4_CLIENT)
            got = c.message("a@v4.example", "bob@example.com")
            assert got[:2] == ("eod", 250), got
            c.close()
            # the Postmaster view names the IPv6 client as the log does
            with urllib.request.urlopen("http://%s/v1/postmaster" % ctl,
                                        timeout=10) as r:
                pm = json.load(r)
            assert "::1" in pm["providers"]["microsoft"]["ips"], pm
            assert V4_CLIENT in pm["providers"]["generic"]["ips"], pm
            # the control API keys an IPv6 address by its /64
            rq = urllib.request.Request(
                "http://%s/v1/reputation/ip/microsoft/::1" % ctl,
                data=b'{"score": 10}', method="PUT")
            with urllib.request.urlopen(rq, timeout=10) as r:
                rep = json.load(r)
            assert rep["key"] == "::/64" and rep["score"] == 10, rep
        finally:
            rc, _, err = m.stop()
        assert rc == 0, err
        ev = read_events(m.events)
        six = [e for e in ev if e["client"] == "::1"]
        four = [e for e in ev if e["client"] == V4_CLIENT]
        assert six and all(e["mx"] == "::1" and e["provider"] == "microsoft"
                           for e in six), six
        assert four and all(e["mx"] == V4_MX and e["provider"] == "generic"
                            for e in four), four
        assert any(e["reason"] == "ok.message" for e in six), six
        # the report's per-IP series name the IPv6 client as the log does
        out = os.path.join(self.dir, "report")
        r = subprocess.run([os.path.join(ROOT, "reports", "mxreport"),
                            "--no-plots", "-o", out, m.events],
                           capture_output=True, text=True, timeout=120)
        assert r.returncode == 0, r.stderr
        with open(os.path.join(out, "data", "rep_ip_microsoft.dat")) as f:
            assert f.read().split("\n")[1] == "# ::1"  # the series' title

    def test_microsoft_ipv6_ptr(self):
        """No PTR for ::1: 550 5.7.25 at RCPT naming the IPv6 address."""
        m, port = self.start("ptr", """\
servers:
  - {profile: microsoft, addresses: ["::1/128"]}
senders:
  reverse_dns:
    - {addresses: "::1/128", ptr: none}
""")
        try:
            c = Client("::1", port, "::1")
            stage, code, text = c.message("a@v6.example", "bob@outlook.com")
            c.close()
        finally:
            m.stop()
        assert (stage, code, enhanced(text)) == ("rcpt", 550, "5.7.25"), text
        assert b"IPv6 address [::1] must have a reverse DNS record" in text

    def test_microsoft_ipv6_only_rules(self):
        """A tenant taking no IPv6 mail (5.7.510 at RCPT) and a message
        without SPF or DKIM (451 4.7.26 at end of DATA) over IPv6; the
        same traffic over IPv4 meets neither."""
        m, port = self.start("rules", """\
servers:
  - {profile: microsoft, addresses: ["::1/128", %s/32]}
senders:
  default: {spf: fail, dkim: none, dmarc: none}
recipients:
  ipv4_only: ["*@v4only.example"]
""" % V4_MX)
        try:
            c = Client("::1", port, "::1")
            stage, code, text = c.message("a@v6.example", "bob@v4only.example")
            assert (stage, code, enhanced(text)) == ("rcpt", 550, "5.7.510"), text
            assert b"[v4only.example] does not accept email over IPv6" in text
            stage, code, text = c.message("a@v6.example", "bob@outlook.com")
            assert (stage, code, enhanced(text)) == ("eod", 451, "4.7.26"), text
            assert b"sent over IPv6 [::1] must pass either SPF or DKIM" in text
            c.close()
            c = Client(V4_MX, port, V4_CLIENT)
            got = c.message("a@v4.example", ["bob@v4only.example",
                                             "carol@outlook.com"])
            assert got[:2] == ("eod", 250), got
            c.close()
        finally:
            m.stop()

    def test_dns_aaaa(self):
        """mxsim's DNS answers AAAA for MX hosts served over IPv6, and
        gives them as additional data to an MX query."""
        if shutil.which("dig") is None:
            raise Skip("dig is not installed")
        dport = free_port()
        m, port = self.start("dns", """\
servers:
  - {profile: gmail, addresses: ["::1/128"]}
  - {profile: generic, addresses: [%s/32]}
dns: {listen: "127.0.216.53:%d"}
""" % (V4_MX, dport))
        try:
            def dig(*q):
                return subprocess.run(
                    ["dig", "+short", "+time=5", "+tries=2", "-p", str(dport),
                     "@127.0.216.53"] + list(q), capture_output=True,
                    text=True, timeout=30).stdout.split()
            assert dig("AAAA", "gmail-smtp-in.l.google.com") == ["::1"]
            assert dig("A", "gmail-smtp-in.l.google.com") == []
            mx = subprocess.run(
                ["dig", "+time=5", "+tries=2", "-p", str(dport),
                 "@127.0.216.53", "MX", "gmail.com"], capture_output=True,
                text=True, timeout=30).stdout
            assert "gmail-smtp-in.l.google.com." in mx, mx
            assert "AAAA\t::1" in mx.replace(" ", "\t"), mx
        finally:
            m.stop()

    def test_dpdk_refuses_ipv6(self):
        """The DPDK backend says at start that it serves IPv4 only."""
        scn = self.scenario("dpdk", """\
servers:
  - {profile: generic, addresses: ["::1/128"]}
""")
        r = subprocess.run([self.bin, "--backend", "dpdk", "-q", "-c", scn,
                            "-d", "1", "--"], capture_output=True, text=True,
                           timeout=60)
        if "dpdk" in r.stderr and "unknown" in r.stderr.lower():
            raise Skip("this build has no DPDK backend")
        assert r.returncode != 0, r.stderr
        assert "IPv4 MX addresses only" in r.stderr and \
            "--backend socket" in r.stderr, r.stderr

    def test_netns_prefix_keying(self):
        """In a namespace: MX addresses from an IPv6 range, and senders
        keyed by their /64 (ipv6_prefix) and /48 (ipv6_netblock)."""
        ns = "mxsim6-%d" % os.getpid()
        if subprocess.run(["ip", "netns", "add", ns],
                          capture_output=True).returncode != 0:
            raise Skip("ip netns add is not permitted here")
        try:
            # the whole /48 is local on lo; binding its addresses needs
            # ip_nonlocal_bind (this namespace's own sysctl)
            for cmd in (["ip", "link", "set", "lo", "up"],
                        ["ip", "-6", "route", "add", "local", NS_NET,
                         "dev", "lo"],
                        ["sysctl", "-qw", "net.ipv6.ip_nonlocal_bind=1"]):
                subprocess.run(["ip", "netns", "exec", ns] + cmd, check=True,
                               capture_output=True)
            r = subprocess.run(["ip", "netns", "exec", ns, sys.executable,
                                os.path.abspath(__file__), "--build",
                                self.build, INSIDE], capture_output=True,
                               text=True, timeout=120)
            assert r.returncode == 0, r.stdout + r.stderr
        finally:
            subprocess.run(["ip", "netns", "del", ns], capture_output=True)


def inside(build):
    """Run in the namespace: mxsim on 2001:db8:16:ff::/126 serving the
    keyed6 test profile (per IP and per netblock 2 an hour)."""
    port = free_port()
    d = tempfile.mkdtemp(prefix="mxsim-ipv6-ns-")
    scn = os.path.join(d, "s.yaml")
    with open(scn, "w") as f:
        f.write("""\
ipv6_prefix: 64
ipv6_netblock: 48
servers:
  - {profile: %s, addresses: ["2001:db8:16:ff::/126"]}
""" % os.path.join(DATA, "ipv6_keyed.yaml"))
    m = Mxsim(os.path.join(build, "sim", "mxsim"), ["-q", "-c", scn], port)
    out = []
    try:
        # the four MX addresses of the block answer
        for k in range(4):
            c = Client("2001:db8:16:ff::%x" % k, port, "2001:db8:16:1::1")
            assert c.ehlo[0] == 250, c.ehlo
            c.close()
        # three addresses of 2001:db8:16:1::/64 are one sender: 2 an hour
        for src in ("2001:db8:16:1::a", "2001:db8:16:1::b",
                    "2001:db8:16:1::c"):
            c = Client("2001:db8:16:ff::1", port, src)
            out.append((src, c.ehlo[1], c.message("a@s.example",
                                                   "bob@keyed6.example")))
            c.close()
        # another /64 of the same /48: its own IP count, the shared netblock
        c = Client("2001:db8:16:ff::2", port, "2001:db8:16:2::1")
        out.append(("2001:db8:16:2::1", c.ehlo[1],
                    c.message("a@s.example", "bob@keyed6.example")))
        c.close()
    finally:
        rc, _, err = m.stop()
        shutil.rmtree(d, ignore_errors=True)
    assert rc == 0, err
    ev = read_events(m.events)
    shutil.rmtree(m.dir, ignore_errors=True)
    (a, ea, ra), (b, eb, rb), (c3, ec, rc3), (o, eo, ro) = out
    assert b"Hello [2001:db8:16:1::a] of 2001:db8:16::/48" in ea, ea
    assert ra[:2] == ("eod", 250) and rb[:2] == ("eod", 250), (ra, rb)
    assert rc3[:2] == ("mail", 421) and \
        b"from 2001:db8:16:1::c reached" in rc3[2], rc3
    assert ro[:2] == ("mail", 421) and \
        b"netblock 2001:db8:16::/48 reached" in ro[2], ro
    # (workers write the log in their own order: compare as a set)
    refused = {(e["client"], e["reason"]) for e in ev if e["code"] == 421}
    assert refused == {("2001:db8:16:1::c", "rate.ip"),
                       ("2001:db8:16:2::1", "rate.netblock")}, refused
    want = {str(ipaddress.IPv6Address("2001:db8:16:ff::") + k)
            for k in range(4)}          # canonical text, "...:ff::" first
    assert {e["mx"] for e in ev} == want, {e["mx"] for e in ev}
    print("inside the namespace: ok")


if __name__ == "__main__":
    if INSIDE in sys.argv:
        sys.argv.remove(INSIDE)
        i = sys.argv.index("--build")
        inside(os.path.abspath(sys.argv[i + 1]))
        sys.exit(0)
    sys.exit(run_suite("ipv6", Suite))
