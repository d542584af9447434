#!/usr/bin/env python3
"""End-to-end test of issue 5 item 8: an unmodified MTA finds the fake MX
hosts by MX lookup.

A network namespace joined to the root namespace by a veth pair
(198.19.40.1 host side, 198.19.40.2 inside) holds a private Postfix
(harness/runner/rn_postfix.py) with no transport map, no relayhost and
normal DNS: smtp_dns_support_level = enabled, smtp_host_lookup = dns, no
chroot. Its resolver reads /etc/netns/NAME/resolv.conf (ip netns exec
bind-mounts it over /etc/resolv.conf), which names mxsim's DNS server. mxsim
runs in the root namespace with gmail, microsoft and yahoo on small blocks
of 198.19.41-43.0/29 added to the host side of the veth, port 25, and
dns.listen on 198.19.40.1:53, so the zone answers MX of gmail.com,
outlook.com, yahoo.com ... with the profiles' MX host names and A records
in those blocks. Mail to each provider must arrive at the provider's first
MX host (event log: provider, mx, client) and Postfix must log
relay=<MX name>[address]:25, status=sent. A domain outside the zone is
never delivered. Everything created is removed, also on failure. Skipped
only when network namespaces cannot be created here (not root, no netns).

Run: python3 tests/e2e/test_netns_mx.py --build BUILD_DIR [TEST ...]"""
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(ROOT, "harness", "runner"))
from mxsim_proc import Mxsim, Skip, read_events, run_suite  # noqa: E402
from rn_adapter import Message  # noqa: E402
from rn_postfix import Postfix  # noqa: E402

HOST_IP = "198.19.40.1"
NS_IP = "198.19.40.2"
SENDER = "probe@mta.netns.example"
# recipient domain -> (provider, first MX host, its address)
EXPECT = {
    "gmail.com": ("gmail", "gmail-smtp-in.l.google.com", "198.19.41.1"),
    "outlook.com": ("microsoft", "outlook-com.olc.protection.outlook.com",
                    "198.19.42.1"),
    "yahoo.com": ("yahoo", "mta5.am0.yahoodns.net", "198.19.43.1"),
}
SCENARIO = """\
seed: 11
port: 25
servers:
  - profile: gmail
    addresses: [198.19.41.0/29]
  - profile: microsoft
    addresses: [198.19.42.0/29]
  - profile: yahoo
    addresses: [198.19.43.0/29]
dns: {listen: "%s:53"}
senders:
  domains:
    mta.netns.example:
      dns:
        spf: "v=spf1 ip4:%s -all"
""" % (HOST_IP, NS_IP)
RE_RELAY = re.compile(r" to=<([^>]+)>, relay=([^\[\s,]+)\[([0-9.]+)\]:(\d+),"
                      r".* status=(\w+)")


def sh(*cmd, check=True):
    """Run a command (bounded); its CompletedProcess."""
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=30)
    if check and p.returncode != 0:
        raise RuntimeError("%s: rc %d: %s" % (" ".join(cmd), p.returncode,
                                              p.stderr.strip()))
    return p


class Suite:
    def __init__(self, build):
        self.build = build
        tag = "%d" % (os.getpid() % 100000)
        self.ns = "mxmx" + tag
        self.vh, self.vn = "mxh" + tag, "mxn" + tag
        self.etc_ns = os.path.join("/etc/netns", self.ns)
        self.dir = tempfile.mkdtemp(prefix="mxsim-netns-")
        os.chmod(self.dir, 0o755)   # Postfix daemons run as postfix
        self.made_ns = self.made_link = self.made_etc = False
        self.made_parent = False
        self.mxsim = self.postfix = None

    # set-up and clean-up -------------------------------------------------

    def setup_net(self):
        """Namespace, veth, addresses, routes, resolv.conf."""
        if os.geteuid() != 0:
            raise Skip("network namespaces need root")
        if sh("ip", "netns", "add", self.ns, check=False).returncode != 0:
            raise Skip("ip netns add is not permitted here")
        self.made_ns = True
        sh("ip", "link", "add", self.vh, "type", "veth", "peer", "name",
           self.vn)
        self.made_link = True
        sh("ip", "link", "set", self.vn, "netns", self.ns)
        sh("ip", "addr", "add", HOST_IP + "/24", "dev", self.vh)
        for net in (41, 42, 43):    # every address of each /29 block
            for host in range(8):
                sh("ip", "addr", "add", "198.19.%d.%d/32" % (net, host),
                   "dev", self.vh)
        sh("ip", "link", "set", self.vh, "up")
        nsx = ("ip", "netns", "exec", self.ns)
        sh(*nsx, "ip", "link", "set", "lo", "up")
        sh(*nsx, "ip", "addr", "add", NS_IP + "/24", "dev", self.vn)
        sh(*nsx, "ip", "link", "set", self.vn, "up")
        sh(*nsx, "ip", "route", "add", "198.18.0.0/15", "via", HOST_IP)
        if os.path.exists(self.etc_ns):
            raise RuntimeError("%s exists already" % self.etc_ns)
        self.made_parent = not os.path.isdir("/etc/netns")
        self.made_etc = True
        os.makedirs(self.etc_ns)
        with open(os.path.join(self.etc_ns, "resolv.conf"), "w") as f:
            f.write("nameserver %s\noptions timeout:2 attempts:2\n"
                    % HOST_IP)

    def close(self):
        """Stop Postfix and mxsim, remove link, namespace, /etc/netns."""
        if self.postfix is not None:
            self.postfix.stop()
        if self.mxsim is not None:
            self.mxsim.stop()
            shutil.rmtree(self.mxsim.dir, ignore_errors=True)
        if self.made_link:
            sh("ip", "link", "del", self.vh, check=False)
        if self.made_ns:
            sh("ip", "netns", "del", self.ns, check=False)
        if self.made_etc:
            shutil.rmtree(self.etc_ns, ignore_errors=True)
            if self.made_parent:
                try:
                    os.rmdir("/etc/netns")
                except OSError:
                    pass    # something else put a namespace there meanwhile
        shutil.rmtree(self.dir, ignore_errors=True)
        self.postfix = self.mxsim = None
        self.made_link = self.made_ns = self.made_etc = False

    # the test ------------------------------------------------------------

    def test_mx_lookup_delivery(self):
        t0 = time.time()
        self.setup_net()
        # the namespace sees mxsim's resolver, the root namespace its own
        p = sh("ip", "netns", "exec", self.ns, "cat", "/etc/resolv.conf")
        assert p.stdout.startswith("nameserver %s\n" % HOST_IP), p.stdout
        scn = os.path.join(self.dir, "netns.yaml")
        with open(scn, "w") as f:
            f.write(SCENARIO)
        self.mxsim = Mxsim(os.path.join(self.build, "sim", "mxsim"),
                           ["-c", scn, "-q", "-w", "1", "--user", "root",
                            "-d", "170"], 25)
        pf = Postfix(os.path.join(self.dir, "postfix"), NS_IP, {}, {
            "transport_maps": "",
            "relayhost": "",
            "smtp_dns_support_level": "enabled",
            "smtp_host_lookup": "dns",
            "inet_interfaces": "loopback-only",
        })
        pf.wrap = ["ip", "netns", "exec", self.ns]
        self.postfix = pf
        pf.start()
        rcpts = ["user1@%s" % d for d in EXPECT] + ["user1@nowhere.example"]
        for i, r in enumerate(rcpts):
            pf.inject(Message("netns-%d" % i, "netns", SENDER, [r], 600))
        # every provider's message sent, the stray one tried: at most 60 s
        deadline = time.time() + 60
        while time.time() < deadline:
            out = pf.outcomes()
            if all(out.get(r, {}).get("status") == "sent"
                   for r in rcpts[:-1]) and rcpts[-1] in out:
                break
            time.sleep(0.5)
        with open(pf.log_path()) as f:
            log = f.read()
        out = pf.outcomes()
        for r in rcpts[:-1]:
            assert out.get(r, {}).get("status") == "sent", (r, out,
                                                            log[-3000:])
        assert out.get(rcpts[-1], {}).get("status") in ("deferred",
                                                        "bounced"), out
        relays = {m.group(1): m.groups()[1:4] for m in RE_RELAY.finditer(log)
                  if m.group(5) == "sent"}
        pf.stop()
        rc, _, err = self.mxsim.stop()
        assert rc == 0, (rc, err[-2000:])
        evs = read_events(self.mxsim.events)
        for dom, (prov, host, addr) in EXPECT.items():
            r = "user1@" + dom
            assert relays.get(r) == (host.lower(), addr, "25"), (r, relays)
            sess = {e["session"] for e in evs if e["rcpt"] == r and
                    e["stage"] == "rcpt" and e["code"] == 250}
            ok = [e for e in evs if e["session"] in sess and
                  e["stage"] == "eod"]
            assert len(ok) == 1, (r, sess, ok)
            e = ok[0]
            assert (e["code"], e["provider"], e["mx"], e["client"],
                    e["sender_domain"]) == (250, prov, addr, NS_IP,
                                            "mta.netns.example"), e
        assert not [e for e in evs if e["rcpt"] == rcpts[-1]]
        print("    netns MX lookup: %d deliveries, %.1f s" % (
            len(EXPECT), time.time() - t0))


if __name__ == "__main__":
    sys.exit(run_suite("netns MX", Suite))
