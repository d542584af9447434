#!/usr/bin/env python3
"""Transactions as large as the limits (issue 16 item 4), over real
sockets against a real mxsim with the bundled profiles, unmodified:

- microsoft accepts a 500-recipient transaction, then one of 1,000 (its
  recipients_per_message) and answers the 1,001st with its own
  rcpts.too_many reply;
- sink (no recipient limit) accepts 1,000 recipients of 64 characters in
  one transaction, and the 1,001st meets mxsim's own bound (452 4.5.3).

Recipients are pipelined in batches (PIPELINING is offered by both
profiles); the event log must agree with the wire (one end-of-DATA event
with the transaction's recipient count).

Usage: test_bigtxn.py --build BUILD_DIR [TEST_NAME ...]
Prints one line per test and ends with "bigtxn: N passed, N failed".
Addresses: MX 127.81.1.5 (microsoft), 127.81.2.5 (sink); clients
127.82.x.y (unused by other suites).
"""
import os
import shutil
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from mxsim_proc import Mxsim, free_port, read_events, run_suite  # noqa: E402
from test_wire import Wire as WireBase  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PROFILES = os.path.join(ROOT, "profiles")
MX = {"microsoft": "127.81.1.5", "sink": "127.81.2.5"}
BATCH = 50      # RCPT lines written before their replies are read


def rcpt_addr(i, domain):
    """A 64-character address numbered i at domain."""
    local = "bulk.recipient.%05d." % i
    pad = 64 - len(local) - 1 - len(domain)
    return local + "x" * pad + "@" + domain


class Wire(WireBase):
    """test_wire's raw connection, with pipelined RCPTs and a message."""

    def rcpts(self, addrs):
        """Pipelined RCPT commands: (code, last line) of each, in order."""
        got = []
        for i in range(0, len(addrs), BATCH):
            part = addrs[i:i + BATCH]
            self.s.sendall(b"".join(b"RCPT TO:<%s>\r\n" % a.encode()
                                    for a in part))
            for _ in part:
                code, lines = self.reply()
                got.append((code, lines[-1]))
        return got

    def txn(self, sender, addrs):
        """MAIL, the RCPTs, DATA and a small message: the RCPT replies and
        the end-of-DATA reply code."""
        code, lines = self.cmd("MAIL FROM:<%s>" % sender)
        assert code == 250, lines
        got = self.rcpts(addrs)
        code, lines = self.cmd("DATA")
        assert code == 354, lines
        self.s.sendall(("From: <%s>\r\nTo: <undisclosed-recipients:;>\r\n"
                        "Message-ID: <bigtxn.%d.%d@auth.example>\r\n"
                        "Subject: big transaction\r\n\r\nhello\r\n.\r\n" % (
                            sender, os.getpid(), len(addrs))).encode())
        code, lines = self.reply()
        assert code == 250, lines
        return got


def refused(got, n):
    """The first replies after the n accepted ones that were not 250."""
    return [(i, r) for i, r in enumerate(got[:n]) if r[0] != 250][:3]


class Suite:
    def __init__(self, build):
        self.mxsim_bin = os.path.join(build, "sim", "mxsim")

    def start(self, args=()):
        """mxsim on the bundled microsoft and sink profiles (by path)."""
        self.dir = tempfile.mkdtemp(prefix="mxsim-bigtxn-")
        path = os.path.join(self.dir, "scenario.yaml")
        with open(path, "w") as f:
            f.write("seed: 16\ntime_scale: 1\n"
                    "timeouts: {idle: 60, session: 300}\nservers:\n")
            for name, ip in MX.items():
                f.write("  - profile: %s\n    addresses: [%s/32]\n" % (
                    os.path.join(PROFILES, name + ".yaml"), ip))
            f.write("senders:\n  default: {spf: pass, dkim: pass, "
                    "dmarc: pass}\n")
        self.port = free_port()
        self.m = Mxsim(self.mxsim_bin, ["-q", "-c", path] + list(args),
                       self.port)

    def stop(self, client):
        """Stop mxsim: the end-of-DATA events of client (log complete)."""
        rc, _, err = self.m.stop()
        ev = [e for e in read_events(self.m.events)
              if e["client"] == client and e["stage"] == "eod"]
        shutil.rmtree(self.dir, ignore_errors=True)
        assert rc == 0, (rc, err[-2000:])
        return ev

    def connect(self, prov, client):
        w = Wire(MX[prov], self.port, client)
        code, lines = w.reply()
        assert code == 220, lines
        code, lines = w.cmd("EHLO bigtxn.auth.example")
        assert code == 250 and any(
            l[4:] == "PIPELINING" for l in lines[1:]), lines
        return w

    def session(self, prov, client, sender, addrs, more=()):
        """One connection to prov from client: a transaction to addrs, then
        one to each list in more; the RCPT replies of each and the
        end-of-DATA events of client."""
        self.start()
        w = None
        try:
            w = self.connect(prov, client)
            got = [w.txn(sender, a) for a in [addrs] + list(more)]
            w.cmd("QUIT")
        finally:
            if w is not None:
                w.close()
            ev = self.stop(client)
        return got, [(e["code"], e["nrcpts"]) for e in ev]

    def test_microsoft_500(self):
        """A 500-recipient transaction accepted by the bundled microsoft
        profile (issue 16's done-when); then one of 1,001: the profile's
        recipients_per_message (1,000, Exchange Online's highest setting)
        answers the 1,001st with its own rcpts.too_many reply, and the
        message is taken."""
        addrs = [rcpt_addr(i, "outlook.com") for i in range(1001)]
        (got, big), ev = self.session("microsoft", "127.82.1.1",
                                      "news@auth.example", addrs[:500],
                                      [addrs])
        assert refused(got, 500) == [], refused(got, 500)
        assert refused(big, 1000) == [], refused(big, 1000)
        assert big[1000][0] == 452 and big[1000][1].startswith(
            "452 4.5.3 Too many recipients [BL2NAM06FT004"), big[1000]
        assert ev == [(250, 500), (250, 1000)], ev

    def test_sink_1000(self):
        """1,000 recipients of 64 characters in one transaction at sink;
        the 1,001st meets mxsim's own bound, 452 4.5.3; the next
        transaction starts from an empty arena."""
        addrs = [rcpt_addr(i, "sink.example") for i in range(1001)]
        assert all(len(a) == 64 for a in addrs)
        (got, small), ev = self.session("sink", "127.82.2.1",
                                        "bulk@auth.example", addrs,
                                        [addrs[:10]])
        assert refused(got, 1000) == [], refused(got, 1000)
        assert got[1000][0] == 452 and got[1000][1].startswith(
            "452 4.5.3 "), got[1000]
        assert [c for c, _ in small] == [250] * 10, small
        assert ev == [(250, 1000), (250, 10)], ev


    def test_sink_pool_exhausted(self):
        """One worker with --max-conns 4 has 32 growth chunks (smtp_conns.h):
        three open 1,000-recipient transactions take 27, so the fourth
        gets 452 4.5.3 once its arena needs more than 5; after the first
        ends, the fourth's remaining recipients fit and its message is
        accepted with all 1,000."""
        sender = "bulk@auth.example"
        addrs = [rcpt_addr(i, "sink.example") for i in range(1000)]
        clients = ["127.82.3.%d" % i for i in range(1, 5)]
        self.start(["--workers", "1", "--max-conns", "4"])
        ws = []
        try:
            for c in clients:
                ws.append(self.connect("sink", c))
                code, lines = ws[-1].cmd("MAIL FROM:<%s>" % sender)
                assert code == 250, lines
            for w in ws[:3]:
                got = w.rcpts(addrs)
                assert refused(got, 1000) == [], refused(got, 1000)
            got = ws[3].rcpts(addrs)
            n = sum(1 for c, _ in got if c == 250)
            assert 32 < n < 1000 and all(c == 250 for c, _ in got[:n]), n
            assert all(c == 452 and t.startswith("452 4.5.3 ")
                       for c, t in got[n:]), got[n]
            # the first ends: its chunks come back to the pool
            code, lines = ws[0].cmd("DATA")
            assert code == 354, lines
            ws[0].s.sendall(b"Subject: t\r\n\r\nhi\r\n.\r\n")
            assert ws[0].reply()[0] == 250
            got = ws[3].rcpts(addrs[n:])
            assert refused(got, len(got)) == [], refused(got, len(got))
            code, lines = ws[3].cmd("DATA")
            assert code == 354, lines
            ws[3].s.sendall(b"Subject: t\r\n\r\nhi\r\n.\r\n")
            assert ws[3].reply()[0] == 250
        finally:
            for w in ws:
                w.close()
            rc, _, err = self.m.stop()
            ev = read_events(self.m.events)
            shutil.rmtree(self.dir, ignore_errors=True)
        assert rc == 0, (rc, err[-2000:])
        eod = [(e["client"], e["code"], e["nrcpts"]) for e in ev
               if e["stage"] == "eod"]
        assert eod == [(clients[0], 250, 1000), (clients[3], 250, 1000)], eod
        full = [e for e in ev if e["stage"] == "rcpt" and e["code"] == 452]
        assert len(full) == 1000 - n and all(
            e["client"] == clients[3] and e["reason"] == "rcpts.too_many"
            for e in full), full[:2]


if __name__ == "__main__":
    sys.exit(run_suite("bigtxn", Suite))
