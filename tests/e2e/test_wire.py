#!/usr/bin/env python3
"""Wire tests of issue 14 item 6: each defect found on the way is checked
through a real socket against a real mxsim on loopback (raw SMTP lines,
so multi-line replies, closes and what a log parser reads are seen as a
sending MTA sees them).

Usage: test_wire.py --build BUILD_DIR [TEST_NAME ...]
Prints one line per test and ends with "wire: N passed, N failed".
Addresses: MX 127.77.N.x, clients 127.78.N.x (unused by other suites).
"""
import json
import os
import re
import shutil
import socket
import struct
import sys
import tempfile
import time
import urllib.request

import yaml

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from mxsim_proc import Mxsim, free_port, read_events, run_suite  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PROFILES = os.path.join(ROOT, "profiles")

# (profile, MX address) of the scenario every test starts from
MX = {"gmail": "127.77.1.5", "microsoft": "127.77.2.5", "yahoo": "127.77.3.5",
      "icloud": "127.77.5.5", "generic": "127.77.4.5"}
BLOCK = {"gmail": "127.77.1.0/24", "microsoft": "127.77.2.0/24",
         "yahoo": "127.77.3.0/24", "generic": "127.77.4.0/24",
         "icloud": "127.77.5.0/24"}


def profile(name):
    with open(os.path.join(PROFILES, name + ".yaml")) as f:
        return yaml.safe_load(f)


class Wire:
    """One raw SMTP connection: reply() returns (code, [line texts])."""

    def __init__(self, mx, port, source, timeout=15.0):
        self.s = socket.create_connection((mx, port), timeout=timeout,
                                          source_address=(source, 0))
        self.f = self.s.makefile("rb")

    def reply(self):
        lines = []
        while True:
            line = self.f.readline()
            if not line:
                raise EOFError("connection closed after %r" % lines)
            assert line.endswith(b"\r\n"), line
            lines.append(line[:-2].decode())
            if line[3:4] == b" ":
                return int(line[:3]), lines
            assert line[3:4] == b"-", line

    def cmd(self, line):
        self.s.sendall(line.encode() + b"\r\n")
        return self.reply()

    def closed(self):
        """True when the server closed (EOF) without sending more."""
        return self.f.readline() == b""

    def message(self, sender, rcpt, body):
        """MAIL, RCPT, DATA, body: (stage, code, lines) of the first
        refusal or of the end-of-DATA reply."""
        code, lines = self.cmd("MAIL FROM:<%s>" % sender)
        if code != 250:
            return "mail", code, lines
        code, lines = self.cmd("RCPT TO:<%s>" % rcpt)
        if code != 250:
            self.cmd("RSET")
            return "rcpt", code, lines
        code, lines = self.cmd("DATA")
        if code != 354:
            return "data", code, lines
        self.s.sendall(body.encode() + b"\r\n.\r\n")
        code, lines = self.reply()
        return "eod", code, lines

    def close(self):
        self.s.close()


def dns_mx(server, port, name):
    """MX host names of name, asked over UDP from mxsim's DNS server."""
    q = struct.pack(">HHHHHH", 0x1414, 0x0100, 1, 0, 0, 0)
    q += b"".join(bytes([len(l)]) + l.encode() for l in name.split(".")) + b"\0"
    q += struct.pack(">HH", 15, 1)
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(10)
    try:
        s.sendto(q, (server, port))
        r, _ = s.recvfrom(4096)
    finally:
        s.close()

    def read_name(off):
        labels = []
        while True:
            n = r[off]
            if n & 0xc0 == 0xc0:
                tail, _ = read_name(((n & 0x3f) << 8) | r[off + 1])
                return ".".join(labels + ([tail] if tail else [])), off + 2
            off += 1
            if n == 0:
                return ".".join(labels), off
            labels.append(r[off:off + n].decode())
            off += n
    rid, flags, qd, an = struct.unpack(">HHHH", r[:8])
    assert rid == 0x1414 and flags & 0x8000 and flags & 0xf == 0, r[:12]
    off = 12
    for _ in range(qd):
        off = read_name(off)[1] + 4
    hosts = []
    for _ in range(an):
        off = read_name(off)[1]
        rtype, _, _, rdlen = struct.unpack(">HHIH", r[off:off + 10])
        off += 10
        if rtype == 15:
            hosts.append(read_name(off + 2)[0])
        off += rdlen
    return hosts


def body(frm, msgid, extra=""):
    return ("From: <%s>\r\nTo: <r@x.example>\r\nMessage-ID: <%s>\r\n"
            "Subject: wire\r\n%s\r\nhello\r\n" % (frm, msgid, extra))


def sim_day(ctl):
    """The day of the scenario's simulated clock (its start is day 0, at
    2026-01-01) read over the control API."""
    with urllib.request.urlopen("http://%s/v1/clock" % ctl, timeout=10) as r:
        clock = json.load(r)
    start = 1767225600000       # 2026-01-01T00:00:00Z in ms
    return (clock["sim_ms"] - start) // 86400000


class Suite:
    def __init__(self, build):
        self.mxsim_bin = os.path.join(build, "sim", "mxsim")

    def start(self, profiles=None, extra=None, args=()):
        """mxsim on a scenario in a fresh directory: every bundled profile
        (or a changed copy: profiles maps a name to a function that edits
        its dict), serving MX; extra is merged into the scenario."""
        d = tempfile.mkdtemp(prefix="mxsim-wire-")
        for name in MX:
            p = profile(name)
            if profiles and name in profiles:
                profiles[name](p)
            with open(os.path.join(d, name + ".yaml"), "w") as f:
                yaml.safe_dump(p, f, sort_keys=False)
        scn = {"seed": 14, "time_scale": 1,
               "timeouts": {"idle": 30, "session": 120},
               "servers": [{"profile": n, "addresses": [BLOCK[n]]} for n in MX],
               "senders": {"default": {"spf": "pass", "dkim": "pass",
                                       "dmarc": "none"}}}
        for k, v in (extra or {}).items():
            scn[k] = v
        path = os.path.join(d, "scenario.yaml")
        with open(path, "w") as f:
            yaml.safe_dump(scn, f, sort_keys=False)
        self.dir = d
        self.port = free_port()
        return Mxsim(self.mxsim_bin, ["-q", "-c", path] + list(args),
                     self.port)

    def stop(self, m):
        rc, out, err = m.stop()
        shutil.rmtree(self.dir, ignore_errors=True)
        assert rc == 0, (rc, err[-2000:])
        return out

    def greet(self, prov, client, helo="wire.test"):
        w = Wire(MX[prov], self.port, client)
        code, lines = w.reply()
        assert code == 220, lines
        code, lines = w.cmd("EHLO " + helo)
        assert code == 250, lines
        return w

    # -- 1: Gmail names the domain that was counted ---------------------------

    def test_gmail_dkim_domain_named(self):
        """rate.dkim_domain names the DKIM d= (not the MAIL FROM domain)."""
        def small(p):
            p["limits"]["per_dkim_domain"] = {"messages": {"hour": 1}}
        m = self.start({"gmail": small})
        try:
            w = self.greet("gmail", "127.78.1.1")
            sig = ("DKIM-Signature: v=1; a=rsa-sha256; d=esp-signer.example;"
                   " s=s1; h=from; bh=AAAA; b=BBBB\r\n")
            r = w.message("a@mailfrom.example", "u1@gmail.com",
                          body("a@mailfrom.example", "d1@wire.test", sig))
            assert r[:2] == ("eod", 250), r
            stage, code, lines = w.message(
                "a@mailfrom.example", "u2@gmail.com",
                body("a@mailfrom.example", "d2@wire.test", sig))
            text = " ".join(l[11:] for l in lines)
            assert (stage, code) == ("eod", 421), (stage, code, lines)
            assert "your DKIM domain esp-signer.example." in text, lines
            assert "mailfrom.example" not in text, lines
            w.close()
        finally:
            self.stop(m)

    def complained_day1(self, prov, block_rate, sender, frm, rcpt, client):
        """mxsim where the sender domain's every recipient complains and
        one day of one message is rated: a message on simulated day 0,
        then a greeted connection on day 1.  Day 0 ends 60 simulated
        seconds after the start (10 real seconds at 6x); the test reads the
        simulated clock (GET /clock) before and after the message instead
        of sleeping, so a slow machine only waits longer.
        Returns (mxsim, connection)."""
        def rated(p):
            p["reputation"]["complaints"] = {
                "warn_rate": 0.001, "block_rate": block_rate,
                "recovery_days": 7, "min_messages": 1}
        auth = {"spf": "pass", "dkim": "pass", "dmarc": "none"}
        ctl = "127.0.0.1:%d" % free_port()
        m = self.start({prov: rated}, {
            "time_scale": 6, "start": "2026-01-01T23:59:00Z",
            "senders": {"default": auth, "domains": {
                sender.split("@")[1]: dict(auth, complaint_rate=1)}}},
            args=["--control", ctl])
        try:
            w = self.greet(prov, client)
            r = w.message(sender, rcpt, body(frm, "day0.%s@wire.test" % prov))
            assert r[:2] == ("eod", 250), r
            w.close()
            day = sim_day(ctl)
            assert day == 0, ("the day-0 message came after simulated "
                              "midnight (mxsim took over 10 real seconds "
                              "to take it)", day)
            deadline = time.time() + 60
            while sim_day(ctl) == 0 and time.time() < deadline:
                time.sleep(0.2)
            assert sim_day(ctl) == 1, "simulated day 1 never came"
            return m, self.greet(prov, client)
        except Exception:
            self.stop(m)
            raise

    def test_gmail_complaints_domain_named(self):
        """complaints.temp names the header From domain whose complaints
        were counted, not the MAIL FROM (bounce) domain."""
        m, w = self.complained_day1("gmail", 0, "b@bounce.esp.example",
                                    "news@brand.example", "u1@gmail.com",
                                    "127.78.1.2")
        try:
            stage, code, lines = w.message(
                "b@bounce.esp.example", "u2@gmail.com",
                body("news@brand.example", "c2@wire.test"))
            text = " ".join(l[11:] for l in lines)
            assert (stage, code) == ("eod", 421), (stage, code, lines)
            assert "from your domain brand.example." in text, lines
            assert "esp.example" not in text, lines
            w.close()
        finally:
            self.stop(m)

    # -- 3: "<id> - gsmtp" is never split ----------------------------------

    def test_gmail_trailer_whole(self):
        """Every Gmail reply, at many text lengths, ends its last line with
        "<id> - gsmtp" (what a Postfix-log parser extracts with
        "(\\S+) - gsmtp$"), the id being the session's; no line is wider
        than the profile's wrap unless it holds a single word."""
        wrap = profile("gmail")["smtp"]["wrap"]

        def one_an_hour(p):
            p["limits"]["per_domain"] = {"messages": {"hour": 1}}
        # rate.domain names the MAIL FROM domain early in a long text: its
        # length moves every later line break
        m = self.start({"gmail": one_an_hour})
        seen = 0
        try:
            for n in range(1, 81):
                w = Wire(MX["gmail"], self.port, "127.78.3.%d" % n)
                code, lines = w.reply()
                sid = re.search(r"(\S+) - gsmtp$", lines[-1]).group(1)
                replies = [(code, lines)]
                w.cmd("EHLO wire.test")
                replies.append(w.cmd("RCPT TO:<nobody@gmail.com>"))
                replies.append(w.cmd("NOOP"))
                dom = "d" * n + ".example"
                for i in range(2):      # 250, then 421 (which closes)
                    replies.append(w.message(
                        "s@" + dom, "u%d@gmail.com" % n,
                        body("s@" + dom, "w%d.%d@wire.test" % (n, i)))[1:])
                assert replies[-1][0] == 421, replies[-1]
                for code, lines in replies:
                    last = re.search(r"(\S+) - gsmtp$", lines[-1])
                    assert last and last.group(1) == sid, lines
                    assert all(len(l) <= wrap or " " not in l[11:]
                               for l in lines), lines
                    assert all("gsmtp" not in l for l in lines[:-1]), lines
                    seen += len(lines) > 1
                w.close()
        finally:
            self.stop(m)
        assert seen >= 80, seen

    # -- 6: Microsoft names what it counts; 5.7.606 only at RCPT -------------

    def test_ms_606_at_rcpt(self):
        """A banned IP (score below block_below, set over the control API)
        gets 250 to MAIL FROM and 550 5.7.606 at RCPT TO; a blocklisted
        one gets Outlook.com's own block (S3140) at MAIL FROM (issue 16);
        a score between the lines gets 451 4.7.650 at MAIL FROM."""
        ctl = "127.0.0.1:%d" % free_port()
        rep = profile("microsoft")["reputation"]
        m = self.start(extra={"blocklist": ["127.78.6.9/32"]},
                       args=["--control", ctl])
        try:
            for ip, score in (("127.78.6.1", rep["block_below"] - 1),
                              ("127.78.6.2", (rep["block_below"] + rep["temp_below"]) / 2)):
                rq = urllib.request.Request(
                    "http://%s/v1/reputation/ip/microsoft/%s" % (ctl, ip),
                    data=b'{"score": %g}' % score, method="PUT")
                with urllib.request.urlopen(rq, timeout=10) as r:
                    assert r.status == 200, r.status
            w = self.greet("microsoft", "127.78.6.1")
            code, lines = w.cmd("MAIL FROM:<a@shop.example>")
            assert code == 250, lines
            code, lines = w.cmd("RCPT TO:<r@outlook.com>")
            assert code == 550 and lines[-1].startswith(
                "550 5.7.606 Access denied, banned sending IP [127.78.6.1]"), lines
            w.close()
            w = self.greet("microsoft", "127.78.6.9")
            code, lines = w.cmd("MAIL FROM:<a@shop.example>")
            assert code == 550 and lines[-1].startswith(
                "550 5.7.1 Unfortunately, messages from [127.78.6.9] weren't "
                "sent.") and "(S3140)" in lines[-1], lines
            w.close()
            w = self.greet("microsoft", "127.78.6.2")
            code, lines = w.cmd("MAIL FROM:<a@shop.example>")
            assert code == 451 and "4.7.650" in lines[-1], lines
            w.close()
        finally:
            self.stop(m)

    def test_ms_rp001_names_ip(self):
        """RP-001 (daily_cap, counted per IP as Outlook.com's text says;
        issue 16 dropped the per-domain account cap) names the IP."""
        def one_a_day(p):
            p["limits"]["per_ip"] = {"messages": {"day": 1}}
        m = self.start({"microsoft": one_a_day})
        try:
            w = self.greet("microsoft", "127.78.6.20")
            r = w.message("a@capped.example", "r@outlook.com",
                          body("a@capped.example", "rp1@wire.test"))
            assert r[:2] == ("eod", 250), r
            stage, code, lines = w.message(
                "a@capped.example", "r@outlook.com",
                body("a@capped.example", "rp2@wire.test"))
            assert (stage, code) == ("mail", 421), (stage, code, lines)
            assert lines[-1].startswith("421 RP-001 (COL0-MC3-F15) Unfortunately, "
                                        "some messages from 127.78.6.20 weren't"), lines
        finally:
            self.stop(m)

    def test_ms_sc004_names_domain(self):
        """SC-004 (complaints.block, counted per sender domain) names the
        domain, at MAIL FROM, the simulated day after the complaints."""
        m, w = self.complained_day1("microsoft", 0.003, "a@loud.example",
                                    "a@loud.example", "r@outlook.com",
                                    "127.78.6.30")
        try:
            code, lines = w.cmd("MAIL FROM:<a@loud.example>")
            assert code == 550 and lines[-1].startswith("550 SC-004 "), lines
            assert "against your domain loud.example because" in lines[-1], lines
            assert "IP address" not in lines[-1], lines
            w.close()
        finally:
            self.stop(m)

    # -- 2: a ladder's target fits the stage it is sent at -------------------

    def test_icloud_ladder_at_mail(self):
        """iCloud's rate.ip (451 at MAIL FROM) climbs to a MAIL-stage block
        (550 5.7.0 Proofpoint), never to the connect greeting "ESMTP not
        accepting connections"."""
        def small(p):
            p["limits"]["per_ip"] = {"messages": {"minute": 1}}
            p["replies"]["rate.ip"]["escalate"] = {"after": 2,
                                                   "to": "rate.block"}
        m = self.start({"icloud": small})
        try:
            w = self.greet("icloud", "127.78.2.1")
            r = w.message("a@shop.example", "u@icloud.com",
                          body("a@shop.example", "i0@wire.test"))
            assert r[:2] == ("eod", 250), r
            got = []
            for i in range(3):
                code, lines = w.cmd("MAIL FROM:<a@shop.example>")
                got.append((code, lines[-1]))
            assert [c for c, _ in got] == [451, 451, 550], got
            assert got[-1][1].startswith("550 5.7.0 Blocked - see https://"
                                         "support.proofpoint.com/"), got
            assert all("not accepting connections" not in t for _, t in got), got
            w.close()
        finally:
            self.stop(m)


    # -- 4: providers' own protocol, timeout and outage replies --------------

    def test_protocol_timeout_outage(self):
        """Gmail answers bad commands 502 5.5.1 / 555 5.5.2 and times out
        with 451 4.4.2; an outage is Gmail 421 4.3.0, Yahoo 451 4.3.2,
        iCloud 451 4.7.1; a host a reply names is the banner's."""
        ctl = "127.0.0.1:%d" % free_port()
        m = self.start(extra={"timeouts": {"idle": 1, "session": 60}},
                       args=["--control", ctl])
        try:
            w = Wire(MX["gmail"], self.port, "127.78.4.1")
            code, lines = w.reply()
            sid = re.search(r"ESMTP (\S+) - gsmtp$", lines[-1]).group(1)
            w.cmd("EHLO wire.test")
            assert w.cmd("XYZZY") == (502, ["502 5.5.1 Unrecognized command. %s - gsmtp" % sid])
            code, lines = w.cmd("MAIL FROM:<a@shop.example> NOSUCH=1")
            assert lines == ["555 5.5.2 Syntax error. %s - gsmtp" % sid], lines
            # silence: the idle timeout (1 s) answers and closes
            assert w.reply() == (451, ["451 4.4.2 Timeout - closing connection. %s - gsmtp" % sid])
            assert w.closed()
            for prov in ("yahoo", "icloud"):
                w = Wire(MX[prov], self.port, "127.78.4.2")
                code, lines = w.reply()
                host = lines[0].split()[1]
                assert host == profile(prov)["mx_hosts"][0], lines
                code, lines = w.reply()
                assert lines == ["421 4.4.2 %s Timeout - closing connection" % host], lines
                assert w.closed()
            # (Gmail's text and trailer wrap: "<id> - gsmtp" ends the
            # last line)
            want = {"gmail": re.compile(r"421 4\.3\.0 Temporary System Problem\. "
                                        r"Try again later\. 421 4\.3\.0 \S+ - gsmtp$"),
                    "yahoo": re.compile(r"451 4\.3\.2 Internal server error$"),
                    "icloud": re.compile(r"451 4\.7\.1 Service unavailable - try again later$")}
            for prov, rx in want.items():
                rq = urllib.request.Request(
                    "http://%s/v1/providers/%s/outage" % (ctl, prov),
                    data=b'{"duration_s": 3600}', method="PUT")
                with urllib.request.urlopen(rq, timeout=10) as r:
                    assert r.status == 200, r.status
                w = Wire(MX[prov], self.port, "127.78.4.3")
                code, lines = w.reply()
                assert rx.match(" ".join(l[:3] + " " + l[4:] for l in lines)), (prov, lines)
                assert w.closed(), prov
        finally:
            self.stop(m)


    # -- 7: every domain's MX set is one provider host family --------------

    def test_mx_families(self):
        """mxsim's DNS gives every domain of every bundled profile MX hosts
        of one family, the real provider's: sender software shaping
        traffic per provider matches them by suffix.  Microsoft's consumer
        domains get Outlook.com's *.olc.protection.outlook.com, never
        EOP's *.mail.protection.outlook.com."""
        family = {"gmail": ".l.google.com",
                  "microsoft": ".olc.protection.outlook.com",
                  "yahoo": ".yahoodns.net", "icloud": ".mail.icloud.com",
                  "generic": ".example.net"}
        dns = ("127.77.9.53", free_port())
        m = self.start(extra={"dns": {"listen": "%s:%d" % dns}})
        try:
            for prov, suffix in family.items():
                for dom in profile(prov)["domains"]:
                    hosts = dns_mx(dns[0], dns[1], dom)
                    assert hosts, (prov, dom)
                    bad = [h for h in hosts if not h.lower().endswith(suffix)]
                    assert not bad, (prov, dom, hosts)
            hosts = dns_mx(dns[0], dns[1], "hotmail.com")
            assert "hotmail-com.olc.protection.outlook.com" in hosts, hosts
            assert not [h for h in hosts if "mail.protection" in h.lower()], hosts
        finally:
            self.stop(m)


    # -- 5: Gmail's "Try again later, closing connection." answers EHLO ------

    def test_gmail_conn_limit_at_ehlo(self):
        """Over Gmail's connections per IP: the 220 greeting, then 421 4.7.0
        "Try again later, closing connection." as the reply to EHLO (or
        HELO), then the close; the first connection goes on."""
        def one_conn(p):
            p["limits"]["connections_per_ip"] = 1
        m = self.start({"gmail": one_conn})
        try:
            a = self.greet("gmail", "127.78.5.1")
            for verb in ("EHLO", "HELO"):
                b = Wire(MX["gmail"], self.port, "127.78.5.1")
                code, lines = b.reply()
                assert code == 220 and lines[0].startswith("220 mx.google.com ESMTP "), lines
                sid = re.search(r"(\S+) - gsmtp$", lines[-1]).group(1)
                code, lines = b.cmd("%s wire.test" % verb)
                assert lines == ["421 4.7.0 Try again later, closing connection. "
                                 "%s - gsmtp" % sid], lines
                assert b.closed()
                b.close()
            code, lines = a.cmd("MAIL FROM:<a@shop.example>")
            assert code == 250, lines
            a.close()
        finally:
            out = self.stop(m)
        assert "conn.limit" in out, out


    # -- 8: a 554 at connect waits for QUIT (RFC 5321 section 3.1) ------------

    def test_554_waits_for_quit(self):
        """A connect-time 554 (the generic blocklist; iCloud's ban of a
        low-score IP) keeps the connection: other commands get 503, QUIT
        gets 221 and the close; a silent client is ended by the idle
        timeout; Yahoo's 553 blocklist closes at once."""
        ctl = "127.0.0.1:%d" % free_port()
        m = self.start(extra={"blocklist": ["127.78.8.1/32"],
                              "timeouts": {"idle": 1, "session": 60}},
                       args=["--control", ctl])
        try:
            rq = urllib.request.Request(
                "http://%s/v1/reputation/ip/icloud/127.78.8.2" % ctl,
                data=b'{"score": 1}', method="PUT")
            with urllib.request.urlopen(rq, timeout=10) as r:
                assert r.status == 200, r.status
            for prov, ip, first in (
                    ("generic", "127.78.8.1",
                     "554 5.7.1 Service unavailable; client host [127.78.8.1] blocked"),
                    ("icloud", "127.78.8.2",
                     "554 %s ESMTP not accepting connections"
                     % profile("icloud")["mx_hosts"][0])):
                w = Wire(MX[prov], self.port, ip)
                assert w.reply() == (554, [first]), prov
                for line in ("EHLO wire.test", "MAIL FROM:<a@shop.example>",
                             "XYZZY", "RSET"):
                    code, lines = w.cmd(line)
                    assert code == 503 and lines[-1].startswith("503 5.5.1 "), (line, lines)
                code, lines = w.cmd("QUIT")
                assert code == 221, lines
                assert w.closed(), prov
                w.close()
            # silence after the 554: the idle timeout ends it
            w = Wire(MX["generic"], self.port, "127.78.8.1")
            assert w.reply()[0] == 554
            code, lines = w.reply()
            assert code == 421 and "4.4.2" in lines[-1], lines
            assert w.closed()
            # a 553 refusal (Yahoo's blocklist) closes at once
            w = Wire(MX["yahoo"], self.port, "127.78.8.1")
            code, lines = w.reply()
            assert code == 553, lines
            assert w.closed()
        finally:
            self.stop(m)


if __name__ == "__main__":
    sys.exit(run_suite("wire", Suite))
