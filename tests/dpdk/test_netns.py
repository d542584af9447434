#!/usr/bin/python3
"""DPDK backend, tiers 2 and 3: real Linux TCP clients in a network namespace.

Tier 2 (net_tap): smtplib dialogues, swaks and a small mxload run against
mxsim --backend dpdk on a tap port, then the same clients against the socket backend
(mxsim) in a second namespace where 198.18.0.0/16 is local; the replies and
the event logs (reasons, codes, providers, addresses per reply) must match.

Tier 2 also runs mxsim --backend dpdk with --control and --metrics on a
loopback address inside the namespace: PATCH gmail per_ip minute to 1 and
the 2nd message from one client gets 421 4.7.28 over DPDK; GET /counters
equals the event log; /metrics has one worker line per lcore.

Tier 3 (veth + net_af_packet, kernel side "ethtool -K veth0 tx off"): a
bounded mxload run with thousands of connections; nothing lost: every
message mxload counts is in the event log, every connection was served.

Usage: test_netns.py --build BUILD --tier 2|3   (root: namespaces, tap)
Prints "PASS name" / "FAIL name: why" lines, then "tierN: P passed, F failed".
Exit 0 all passed, 1 a failure, 77 skipped (not root, no netns support).
"""
import argparse
import collections
import json
import os
import shutil
import signal
import smtplib
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
SCENARIO = os.path.join(HERE, "dpdk_scenario.yaml")
CLIENT = "198.18.0.1"
BLOCKED = "198.18.0.66"
EAL = ["-l", "0", "--no-huge", "-m", "256", "--no-pci", "--no-shconf",
       "--log-level=notice"]


def sh(*cmd, check=True, timeout=60):
    return subprocess.run(list(cmd), check=check, timeout=timeout,
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          text=True)


class Netns:
    """A network namespace that is deleted again."""

    def __init__(self, tag):
        self.name = "mxdp%s%d" % (tag, os.getpid())
        sh("ip", "netns", "add", self.name)
        sh("ip", "-n", self.name, "link", "set", "lo", "up")

    def run(self, *cmd, **kw):
        return sh("ip", "netns", "exec", self.name, *cmd, **kw)

    def popen(self, cmd, out, err):
        return subprocess.Popen(["ip", "netns", "exec", self.name] + cmd,
                                stdout=out, stderr=err,
                                stdin=subprocess.DEVNULL)

    def delete(self):
        sh("ip", "netns", "del", self.name, check=False)


class Server:
    """mxsim or mxsim --backend dpdk inside a namespace; stop() returns (rc, out, err)."""

    def __init__(self, ns, cmd, workdir, name, iface=None):
        self.dir = workdir
        self.events = os.path.join(workdir, name + ".events")
        ready = os.path.join(workdir, name + ".ready")
        self.out = open(os.path.join(workdir, name + ".out"), "w+")
        self.err = open(os.path.join(workdir, name + ".err"), "w+")
        full = cmd[:1] + ["-e", self.events, "--ready-file", ready] + cmd[1:]
        self.proc = ns.popen(full, self.out, self.err)
        deadline = time.time() + 30
        while True:
            up = os.path.exists(ready)
            if up and iface is not None:
                up = ns.run("ip", "link", "show", iface,
                            check=False).returncode == 0
            if up:
                break
            if self.proc.poll() is not None or time.time() > deadline:
                rc, _, err = self.stop()
                raise RuntimeError("%s did not start (rc %s): %s"
                                   % (name, rc, err[-2000:]))
            time.sleep(0.05)

    def stop(self, timeout=40):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.out.seek(0)
        self.err.seek(0)
        return self.proc.returncode, self.out.read(), self.err.read()

    def read_events(self):
        with open(self.events) as f:
            return [json.loads(line) for line in f]


# -- the client side (runs inside a namespace: --client) ---------------------

def dialogue(mx, source, steps):
    """One SMTP session, command by command; every reply recorded."""
    log = []
    s = smtplib.SMTP(timeout=20)
    try:
        code, text = s.connect(mx, 25, source_address=(source, 0))
        log.append(["connect", code, text.decode()])
        for step in steps:
            if step.startswith("BODY:"):
                s.send(step[5:] + "\r\n.\r\n")
                code, text = s.getreply()
            else:
                code, text = s.docmd(step)
            log.append([step.split(":")[0], code, text.decode()])
    except (smtplib.SMTPServerDisconnected, ConnectionError) as e:
        log.append(["closed", 0, type(e).__name__])
    finally:
        s.close()
    return log


DIALOGUES = [
    ("198.18.1.7", CLIENT, ["EHLO client.test", "MAIL FROM:<a@auth.example>",
                            "RCPT TO:<b@gmail.com>", "DATA",
                            "BODY:Subject: t\r\n\r\nhello", "QUIT"]),
    ("198.18.1.8", CLIENT, ["EHLO client.test",
                            "MAIL FROM:<x@unauth.example>",
                            "RCPT TO:<b@gmail.com>", "DATA",
                            "BODY:Subject: u\r\n\r\nhi", "QUIT"]),
    ("198.18.2.9", CLIENT, ["EHLO client.test", "MAIL FROM:<a@auth.example>",
                            "RCPT TO:<nobody@outlook.com>",
                            "RCPT TO:<unknown7@outlook.com>", "RSET",
                            "QUIT"]),
    ("198.18.3.3", BLOCKED, ["EHLO client.test", "QUIT"]),
    ("198.18.4.200", CLIENT, ["HELO client.test",
                              "MAIL FROM:<a@auth.example>",
                              "RCPT TO:<c@example.org>", "DATA",
                              "BODY:Subject: 1\r\n\r\none",
                              "MAIL FROM:<a@auth.example>",
                              "RCPT TO:<d@example.org>", "DATA",
                              "BODY:Subject: 2\r\n\r\ntwo", "QUIT"]),
    ("198.18.5.1", CLIENT, ["EHLO client.test", "NOOP", "VRFY someone",
                            "HELP", "FOO bar", "MAIL FROM:<>", "RSET",
                            "QUIT"]),
]


def client_main(out, build):
    res = {"dialogues": [dialogue(mx, src, steps)
                         for mx, src, steps in DIALOGUES]}
    if shutil.which("swaks") is None:
        res["swaks"] = "swaks is not installed"
    else:
        p = subprocess.run(["swaks", "--server", "198.18.3.4", "--port", "25",
                            "--from", "a@auth.example", "--to",
                            "y@yahoo.com", "--helo", "client.test",
                            "--local-interface", CLIENT,
                            "--timeout", "20"], stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, text=True, timeout=60)
        res["swaks"] = [p.returncode] + [l for l in p.stdout.splitlines()
                                          if l.startswith("<-")]
    j = os.path.join(os.path.dirname(out), "mxload-" + os.path.basename(out))
    p = subprocess.run([os.path.join(build, "harness", "mxload"), "-q",
                        "-t", "sink=198.18.5.1:25", "-t",
                        "generic=198.18.4.0/28:25", "-s", CLIENT + "/32",
                        "-f", "auth.example,unauth.example",
                        "-c", "1", "-n", "60", "-m", "2", "--seed", "5",
                        "--timeout", "20", "--json", j],
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                       text=True, timeout=120)
    with open(j) as f:
        res["mxload"] = json.load(f)
    res["mxload_rc"] = p.returncode
    with open(out, "w") as f:
        json.dump(res, f)


CTL_MX = "198.18.1.20"
CTL_PORT = 8025


def ctl_http(method, path, body=None):
    """One request to the control API (inside the namespace)."""
    import urllib.error
    import urllib.request
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request("http://127.0.0.1:%d%s" % (CTL_PORT, path),
                                 data=data, method=method)
    if data is not None:
        req.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()


def ctl_body(n):
    """A message with the headers a content scan asks for."""
    return ("From: <a@auth.example>\r\nTo: <b@gmail.com>\r\n"
            "Date: Mon, 23 Nov 2026 10:00:00 +0000\r\n"
            "Message-ID: <ctl%d@auth.example>\r\nSubject: %d\r\n\r\n"
            "message %d" % (n, n, n))


def ctl_client_main(out):
    """PATCH the limits, send two messages, read counters and metrics."""
    res = {"before": ctl_http("GET", "/v1/providers/gmail/limits")}
    res["patch"] = ctl_http("PATCH", "/v1/providers/gmail/limits",
                            {"per_ip": {"messages": {"minute": 1}}})
    res["dialogue"] = dialogue(CTL_MX, CLIENT, [
        "EHLO client.test", "MAIL FROM:<a@auth.example>",
        "RCPT TO:<b@gmail.com>", "DATA", "BODY:" + ctl_body(1),
        "MAIL FROM:<a@auth.example>", "RCPT TO:<c@gmail.com>", "DATA",
        "BODY:" + ctl_body(2), "QUIT"])
    deadline = time.time() + 10         # the event log catches up
    while True:
        st, text = ctl_http("GET", "/v1/counters")
        cnt = json.loads(text)
        total = sum(r["count"] for prov in cnt["providers"].values()
                    for r in prov["replies"])
        if (cnt["totals"]["event_log"]["written"] == total and
                cnt["totals"]["open_connections"] == 0) or \
                time.time() > deadline:
            break
        time.sleep(0.2)
    res["counters"] = [st, cnt]
    res["metrics"] = ctl_http("GET", "/metrics")
    with open(out, "w") as f:
        json.dump(res, f)


# -- checks -------------------------------------------------------------------

class Result:
    def __init__(self, tier):
        self.tier = tier
        self.passed = self.failed = 0

    def check(self, name, ok, why=""):
        if ok:
            self.passed += 1
            print("PASS %s" % name)
        else:
            self.failed += 1
            print("FAIL %s: %s" % (name, why))
        sys.stdout.flush()


def decision(ev):
    """What must agree between backends for one logged reply."""
    return (ev["provider"], ev["mx"], ev["client"], ev["sender_domain"],
            ev["rcpt"], ev["stage"], ev["code"], ev["enhanced"],
            ev["reason"], ev["nrcpts"])


def run_clients(ns, workdir, name, build):
    out = os.path.join(workdir, name + ".client.json")
    p = ns.run(sys.executable, os.path.abspath(__file__), "--client", out,
               "--build", build, check=False, timeout=400)
    if p.returncode != 0:
        raise RuntimeError("client in %s failed: %s" % (name, p.stderr[-2000:]))
    with open(out) as f:
        return json.load(f)


def tier2(args, res, workdir):
    dp_bin = os.path.join(args.build, "sim", "mxsim")
    sock_bin = os.path.join(args.build, "sim", "mxsim")
    nsd = Netns("t")
    nss = None
    try:
        srv = Server(nsd, [dp_bin, "--backend", "dpdk", "-c", SCENARIO, "-q", "--idle-us", "200",
                           "--"] + EAL + ["--vdev=net_tap0,iface=dtap0"],
                     workdir, "dpdk", iface="dtap0")
        nsd.run("ip", "addr", "add", CLIENT + "/16", "dev", "dtap0")
        nsd.run("ip", "addr", "add", BLOCKED + "/16", "dev", "dtap0")
        nsd.run("ip", "link", "set", "dtap0", "up")
        ping = nsd.run("ping", "-c", "2", "-i", "0.2", "-W", "2", "-q",
                       "198.18.2.77", check=False)
        res.check("tap: ping an MX address", ping.returncode == 0,
                  ping.stdout + ping.stderr)
        dres = run_clients(nsd, workdir, "dpdk", args.build)
        rc, out, err = srv.stop()
        res.check("tap: mxsim --backend dpdk stops cleanly", rc == 0, err[-1500:])
        dev = srv.read_events()

        nss = Netns("s")
        nss.run("ip", "route", "add", "local", "198.18.0.0/16", "dev", "lo")
        # The DPDK backend offers no STARTTLS: compare with a socket
        # backend that offers none either, so EHLO replies match.
        ssrv = Server(nss, [sock_bin, "-c", SCENARIO, "-q", "-w", "1", "--no-tls"],
                      workdir, "socket")
        sres = run_clients(nss, workdir, "socket", args.build)
        src, sout, serr = ssrv.stop()
        res.check("socket backend stops cleanly", src == 0, serr[-1500:])
        sev = ssrv.read_events()

        for i, (d, s) in enumerate(zip(dres["dialogues"], sres["dialogues"])):
            res.check("dialogue %d (%s) same replies" % (i, DIALOGUES[i][0]),
                      d == s, "dpdk %r\nsocket %r" % (d, s))
        res.check("dialogues ended as expected",
                  dres["dialogues"][0][-1][1] == 221 and
                  dres["dialogues"][3][0][1] >= 400, repr(dres["dialogues"]))
        res.check("swaks same replies", dres["swaks"] == sres["swaks"] and
                  dres["swaks"][0] == 0, "%r / %r" % (dres["swaks"],
                                                      sres["swaks"]))
        dm, sm = dres["mxload"], sres["mxload"]
        res.check("mxload same outcome", dm["outcome"] == sm["outcome"] and
                  dm["errors"] == 0 and dm["messages"] == 60,
                  "%r / %r" % (dm["outcome"], sm["outcome"]))
        dc = collections.Counter(decision(e) for e in dev)
        sc = collections.Counter(decision(e) for e in sev)
        res.check("event logs: same decisions (%d events)" % len(dev),
                  dc == sc and len(dev) > 100,
                  "only dpdk %r\nonly socket %r" % (dc - sc, sc - dc))
        seq_d = [decision(e) + (e["session"],) for e in dev]
        seq_s = [decision(e) + (e["session"],) for e in sev]
        res.check("event logs: same sequence, same session ids",
                  seq_d == seq_s, "")
        res.check("summary printed", "mxsim summary" in out and
                  "dpdk: tcp" in err, out[-500:] + err[-500:])
    finally:
        nsd.delete()
        if nss is not None:
            nss.delete()


def tier2_control(args, res, workdir):
    """--control over DPDK: a PATCH reaches the lcore; counters = log."""
    dp_bin = os.path.join(args.build, "sim", "mxsim")
    ctl = "127.0.0.1:%d" % CTL_PORT
    ns = Netns("c")
    try:
        srv = Server(ns, [dp_bin, "--backend", "dpdk", "-c", SCENARIO, "-q",
                          "--idle-us", "200", "--control", ctl,
                          "--metrics", ctl, "--"] + EAL +
                     ["--vdev=net_tap0,iface=dtap0"],
                     workdir, "dpdk-ctl", iface="dtap0")
        ns.run("ip", "addr", "add", CLIENT + "/16", "dev", "dtap0")
        ns.run("ip", "link", "set", "dtap0", "up")
        out = os.path.join(workdir, "dpdk-ctl.client.json")
        p = ns.run(sys.executable, os.path.abspath(__file__), "--ctl-client",
                   out, "--build", args.build, check=False, timeout=120)
        rc, _, err = srv.stop()
        if p.returncode != 0:
            raise RuntimeError("control client failed: %s" % p.stderr[-2000:])
        with open(out) as f:
            c = json.load(f)
        ev = srv.read_events()
        res.check("control: mxsim --backend dpdk --control stops cleanly",
                  rc == 0, err[-1500:])
        before = json.loads(c["before"][1])
        patch = json.loads(c["patch"][1])
        res.check("control: PATCH gmail per_ip minute 1 over DPDK",
                  c["patch"][0] == 200 and
                  patch["per_ip"]["messages"]["minute"] == 1 and
                  before["per_ip"]["messages"]["minute"] != 1,
                  repr(c["before"]) + repr(c["patch"]))
        d = c["dialogue"]
        eods = [r for r in d if r[0] == "BODY"]
        res.check("control: 1st message 250, 2nd 421 4.7.28",
                  len(eods) == 2 and eods[0][1] == 250 and
                  eods[1][1] == 421 and eods[1][2].startswith("4.7.28"),
                  repr(d))
        st, cnt = c["counters"]
        want = collections.Counter((e["provider"], e["reason"], e["code"],
                                    e["enhanced"]) for e in ev)
        got = collections.Counter()
        for name, prov in cnt["providers"].items():
            for r in prov["replies"]:
                got[(name, r["reason"], r["code"], r["enhanced"])] += \
                    r["count"]
        res.check("control: GET /counters equals the event log (%d events)"
                  % len(ev), st == 200 and got == want and
                  ("gmail", "rate.ip", 421, "4.7.28") in want and
                  cnt["totals"]["connections"] ==
                  sum(e["stage"] == "connect" for e in ev) and
                  cnt["totals"]["event_log"] == {"written": len(ev),
                                                 "dropped": 0},
                  "counters %r\nlog %r" % (got, want))
        mst, page = c["metrics"]
        lines = [l for l in page.splitlines()
                 if l.startswith("mxsim_worker_sessions_total{")]
        res.check("control: /metrics over DPDK, one line per lcore",
                  mst == 200 and len(lines) == 1 and
                  int(float(lines[0].split()[-1])) ==
                  cnt["totals"]["connections"], page[-1500:])
    finally:
        ns.delete()


def tier3(args, res, workdir):
    dp_bin = os.path.join(args.build, "sim", "mxsim")
    ns = Netns("l")
    try:
        ns.run("ip", "link", "add", "veth0", "type", "veth", "peer", "name",
               "veth1")
        ns.run("ethtool", "-K", "veth0", "tx", "off")
        ns.run("ip", "link", "set", "veth0", "up")
        ns.run("ip", "link", "set", "veth1", "up")
        ns.run("ip", "addr", "add", CLIENT + "/16", "dev", "veth0")
        srv = Server(ns, [dp_bin, "--backend", "dpdk", "-c", SCENARIO, "-q", "--max-conns",
                          "4096", "--"] + EAL +
                     ["--vdev=net_af_packet0,iface=veth1"], workdir, "load")
        j = os.path.join(workdir, "load.json")
        t0 = time.time()
        p = ns.run(os.path.join(args.build, "harness", "mxload"), "-q",
                   "-t", "sink=198.18.5.1:25", "-t", "gen=198.18.4.0/24:25",
                   "-s", CLIENT + "/32", "-c", "64", "-n", str(args.messages),
                   "-m", "1", "-f", "auth.example", "--seed", "3",
                   "--timeout", "20", "--json", j, check=False, timeout=300)
        wall = time.time() - t0
        rc, out, err = srv.stop()
        res.check("af_packet: mxload ran", p.returncode == 0,
                  p.stdout[-1000:] + p.stderr[-1000:])
        res.check("af_packet: mxsim --backend dpdk stops cleanly", rc == 0, err[-1500:])
        with open(j) as f:
            m = json.load(f)
        ev = srv.read_events()
        eod = [e for e in ev if e["stage"] == "eod"]
        greet = [e for e in ev if e["stage"] == "connect"]
        acc = sum(1 for e in eod if e["code"] == 250)
        res.check("af_packet: every message decided, none lost",
                  m["messages"] == args.messages and m["errors"] == 0,
                  "mxload %r" % {k: m[k] for k in ("messages", "errors",
                                                   "outcome")})
        res.check("af_packet: connections == greetings logged",
                  m["established"] == len(greet) == args.messages,
                  "established %d, greetings %d" % (m["established"],
                                                    len(greet)))
        res.check("af_packet: accepted == 250 at EOD in the log",
                  m["outcome"]["accepted"] == acc,
                  "mxload %d, log %d" % (m["outcome"]["accepted"], acc))
        res.check("af_packet: summary counts the connections",
                  ("connections %d," % args.messages) in out, out[-600:])
        print("tier3: %d messages, %d connections in %.1f s (%.0f msg/s, "
              "wall clock incl. kernel client on a shared 2-vCPU VM)"
              % (m["messages"], m["established"], wall,
                 m["messages"] / wall if wall > 0 else 0))
        print(err.strip().splitlines()[-2] if err.strip() else "")
    finally:
        ns.delete()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", required=True)
    ap.add_argument("--tier", type=int, choices=(2, 3))
    ap.add_argument("--client")
    ap.add_argument("--ctl-client")
    ap.add_argument("--messages", type=int, default=3000)
    args = ap.parse_args()
    args.build = os.path.abspath(args.build)
    if args.client:
        client_main(args.client, args.build)
        return 0
    if args.ctl_client:
        ctl_client_main(args.ctl_client)
        return 0
    if os.geteuid() != 0:
        print("SKIP tier%d: needs root (network namespaces, tap, af_packet)"
              % args.tier)
        return 77
    if sh("ip", "netns", "add", "mxdpprobe%d" % os.getpid(),
          check=False).returncode != 0:
        print("SKIP tier%d: this kernel cannot create network namespaces"
              % args.tier)
        return 77
    sh("ip", "netns", "del", "mxdpprobe%d" % os.getpid(), check=False)
    res = Result(args.tier)
    workdir = tempfile.mkdtemp(prefix="mxsim --backend dpdk-t%d-" % args.tier)
    try:
        (tier2 if args.tier == 2 else tier3)(args, res, workdir)
    except Exception as e:      # setup trouble is a failure, not a skip
        res.check("tier%d setup" % args.tier, False, "%s: %s"
                  % (type(e).__name__, e))
    try:
        if args.tier == 2:
            tier2_control(args, res, workdir)
    except Exception as e:      # setup trouble is a failure, not a skip
        res.check("tier%d setup" % args.tier, False, "%s: %s"
                  % (type(e).__name__, e))
    try:
        if args.tier == 2:      # live SPF/DKIM/DMARC on the lcores
            import dp_auth_tier2
            dp_auth_tier2.tier2_auth(args, res, workdir)
    except Exception as e:      # setup trouble is a failure, not a skip
        res.check("tier%d auth setup" % args.tier, False, "%s: %s"
                  % (type(e).__name__, e))
    print("tier%d: %d passed, %d failed" % (args.tier, res.passed, res.failed))
    if res.failed == 0:
        shutil.rmtree(workdir, ignore_errors=True)
    else:
        print("logs kept in %s" % workdir)
    return 0 if res.failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
