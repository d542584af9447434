#!/usr/bin/python3
"""DPDK backend, tier 2: live SPF/DKIM/DMARC on the lcores.

DESCRIPTION
    A scenario with DNS records (tests/dpdk/dpdk_scenario.yaml's addresses,
    Gmail on 198.18.1.0/24, plus SPF TXT records for two sender domains)
    makes mxsim compute SPF, DKIM and DMARC; each DPDK lcore has its own
    struct smtp_auth as each socket worker has.  The same two SMTP
    dialogues run over mxsim --backend dpdk (net_tap in a namespace) and
    over the socket backend (a second namespace where 198.18.0.0/16 is
    local): mail from spffail.example ("v=spf1 ip4:192.0.2.0/24 -all")
    must get Gmail's 550 5.7.26 SPF reply over both, word for word, and
    mail from spfpass.example (its record lists the client) 250.  The
    event logs must agree, and carry spf "fail" / "pass".

    Called by test_netns.py for tier 2 (tier2_auth), and by itself inside
    the namespace as the client (--client OUT).

DIAGNOSTICS
    Checks go through test_netns.Result ("PASS name" / "FAIL name: why");
    set-up trouble raises and is counted as a failure by the caller.
"""
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import test_netns as tn  # noqa: E402

MX = "198.18.1.9"
SCENARIO = """\
seed: 7
port: 25
timeouts: {idle: 30, session: 120}
servers:
  - profile: gmail
    addresses: [198.18.1.0/24]
senders:
  domains:
    spffail.example:
      dns:
        spf: "v=spf1 ip4:192.0.2.0/24 -all"
    spfpass.example:
      dns:
        spf: "v=spf1 ip4:198.18.0.0/24 -all"
"""
SPF_FAIL = ("The (E)MAIL FROM domain [spffail.example] has an SPF record "
            "with a hard fail policy (-all) but it fails to pass SPF checks "
            "with the ip: [%s]." % tn.CLIENT)


def body(dom, n):
    """A message with the headers Gmail's content checks ask for."""
    return ("From: Sender <a@%s>\r\nTo: <b@gmail.com>\r\n"
            "Date: Mon, 23 Nov 2026 10:00:00 +0000\r\n"
            "Message-ID: <auth%d@%s>\r\nSubject: spf %d\r\n\r\n"
            "hello %d" % (dom, n, dom, n, n))


def unwrap(text):
    """A multi-line reply text as one line: "5.7.26 a\n5.7.26 b" ->
    "5.7.26 a b"."""
    lines = text.split("\n")
    return " ".join([lines[0]] + [ln.split(" ", 1)[-1] for ln in lines[1:]])


def steps(dom, n):
    """One message from dom, then QUIT."""
    return ["EHLO client.test", "MAIL FROM:<a@%s>" % dom,
            "RCPT TO:<b%d@gmail.com>" % n, "DATA", "BODY:" + body(dom, n),
            "QUIT"]


def client_main(out):
    """Inside the namespace: the two dialogues, replies to OUT."""
    res = [tn.dialogue(MX, tn.CLIENT, steps("spffail.example", 1)),
           tn.dialogue(MX, tn.CLIENT, steps("spfpass.example", 2))]
    with open(out, "w") as f:
        json.dump(res, f)


def run_client(ns, workdir, name):
    """Run client_main in namespace ns; its replies."""
    out = os.path.join(workdir, name + ".auth-client.json")
    p = ns.run(sys.executable, os.path.abspath(__file__), "--client", out,
               check=False, timeout=120)
    if p.returncode != 0:
        raise RuntimeError("auth client in %s failed: %s"
                           % (name, p.stderr[-2000:]))
    with open(out) as f:
        return json.load(f)


def auth_of(evs, dom):
    """(stage, code, enhanced, reason, spf) of each eod event from dom."""
    return [(e["stage"], e["code"], e["enhanced"], e["reason"], e.get("spf"))
            for e in evs if e["sender_domain"] == dom and
            e["stage"] == "eod"]


def tier2_auth(args, res, workdir):
    """SPF -all over DPDK: the socket backend's 550 5.7.26, word for word."""
    binary = os.path.join(args.build, "sim", "mxsim")
    scn = os.path.join(workdir, "auth_scenario.yaml")
    with open(scn, "w") as f:
        f.write(SCENARIO)
    nsd = tn.Netns("a")
    nss = None
    try:
        srv = tn.Server(nsd, [binary, "--backend", "dpdk", "-c", scn, "-q",
                              "--idle-us", "200", "--"] + tn.EAL +
                        ["--vdev=net_tap0,iface=dtap1"], workdir,
                        "dpdk-auth", iface="dtap1")
        nsd.run("ip", "addr", "add", tn.CLIENT + "/16", "dev", "dtap1")
        nsd.run("ip", "link", "set", "dtap1", "up")
        dres = run_client(nsd, workdir, "dpdk")
        rc, _, err = srv.stop()
        res.check("auth: mxsim --backend dpdk with DNS records stops "
                  "cleanly", rc == 0, err[-1500:])
        dev = srv.read_events()

        nss = tn.Netns("b")
        nss.run("ip", "route", "add", "local", "198.18.0.0/16", "dev", "lo")
        # the DPDK backend has no STARTTLS: compare with a socket backend
        # that does not offer it either
        ssrv = tn.Server(nss, [binary, "-c", scn, "-q", "-w", "1",
                               "--no-tls"], workdir, "socket-auth")
        sres = run_client(nss, workdir, "socket")
        src, _, serr = ssrv.stop()
        res.check("auth: socket backend stops cleanly", src == 0,
                  serr[-1500:])
        sev = ssrv.read_events()

        fail_eod = dres[0][5] if len(dres[0]) > 5 else None
        res.check("auth: SPF -all over DPDK gets 550 5.7.26",
                  fail_eod is not None and fail_eod[1] == 550 and
                  unwrap(fail_eod[2]).startswith("5.7.26 " + SPF_FAIL),
                  repr(dres[0]))
        pass_eod = dres[1][5] if len(dres[1]) > 5 else None
        res.check("auth: SPF pass over DPDK gets 250",
                  pass_eod is not None and pass_eod[1] == 250,
                  repr(dres[1]))
        res.check("auth: DPDK replies = socket replies", dres == sres,
                  "dpdk %r\nsocket %r" % (dres, sres))
        res.check("auth: event log, spf fail / pass at end of DATA",
                  auth_of(dev, "spffail.example") ==
                  [("eod", 550, "5.7.26", "auth.spf_fail", "fail")] and
                  [a[4] for a in auth_of(dev, "spfpass.example")] ==
                  ["pass"], "%r %r" % (auth_of(dev, "spffail.example"),
                                       auth_of(dev, "spfpass.example")))
        res.check("auth: DPDK event log = socket event log",
                  [tn.decision(e) for e in dev] ==
                  [tn.decision(e) for e in sev], "")
    finally:
        nsd.delete()
        if nss is not None:
            nss.delete()


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--client":
        client_main(sys.argv[2])
        sys.exit(0)
    print("usage: dp_auth_tier2.py --client OUT (run by test_netns.py)",
          file=sys.stderr)
    sys.exit(2)
