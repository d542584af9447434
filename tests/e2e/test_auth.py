#!/usr/bin/env python3
"""End-to-end tests of computed authentication and content checks: a real
mxsim serving tests/data/auth_e2e.yaml (Gmail on 127.1.0.0/24, SPF, DKIM and
DMARC records, the scenario's DNS server), driven by smtplib and mxload from
client address 127.9.0.5. Every reply is checked word for word.

Run: python3 tests/e2e/test_auth.py --build BUILD_DIR [TEST ...]"""
import base64
import hashlib
import json
import os
import random
import re
import shutil
import smtplib
import socket
import struct
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from mxsim_proc import Mxsim, free_port, run_suite  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))
SCENARIO = os.path.join(ROOT, "tests", "data", "auth_e2e.yaml")
MX = "127.1.0.1"
CLIENT = "127.9.0.5"
SID = r"[0-9a-f]{16}"

SPF_FAIL = ("The (E)MAIL FROM domain [spffail.example] has an SPF record "
            "with a hard fail policy (-all) but it fails to pass SPF checks "
            "with the ip: [127.9.0.5]. To best protect our users from spam "
            "and phishing, the message has been blocked.")
UNAUTH = ("This email has been rate limited because it is unauthenticated. "
          "Gmail requires all senders to authenticate with either SPF or "
          "DKIM. Authentication results: DKIM = did not pass SPF "
          "dkimsig.example with ip: 127.9.0.5 = did not pass.")
DMARC = ("Unauthenticated email from dmarc.example is not accepted due to "
         "domain's DMARC policy. Contact the administrator of "
         "dmarc.example domain if this was legitimate email.")
MSGID = "Messages missing a valid Message-ID header are not accepted."
PTR_TEMP = ("%s The sending IP address for this message doesn't have a PTR "
            "record, or the PTR record's forward DNS entry doesn't match the "
            "sending IP address.")


def relaxed_header(name, value):
    """RFC 6376 3.4.2: lower-case name, unfolded value, runs of blanks
    made one space, blanks around the value removed."""
    v = re.sub(r"\r\n", "", value)
    v = re.sub(r"[ \t]+", " ", v).strip()
    return name.strip().lower() + ":" + v + "\r\n"


def relaxed_body(body):
    """RFC 6376 3.4.4: blanks at line ends removed, runs made one space,
    empty lines at the end removed, CRLF at the end."""
    lines = body.split("\r\n")
    if lines and lines[-1] == "":
        lines.pop()
    lines = [re.sub(r"[ \t]+", " ", ln).rstrip(" \t") for ln in lines]
    while lines and lines[-1] == "":
        lines.pop()
    return "".join(ln + "\r\n" for ln in lines)


def dkim_sign(msg, domain, selector, key_pem):
    """Sign msg (str, CRLF) with rsa-sha256 relaxed/relaxed over From, To,
    Subject, Date and Message-ID; return the message with its signature.
    An implementation of our own, so that libopendkim in mxsim verifies a
    signature it did not make."""
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import padding

    head, body = msg.split("\r\n\r\n", 1)
    fields = []
    for line in head.split("\r\n"):
        if line[:1] in (" ", "\t") and fields:
            fields[-1] = (fields[-1][0], fields[-1][1] + "\r\n" + line)
        else:
            name, value = line.split(":", 1)
            fields.append((name, value))
    signed = ["from", "to", "subject", "date", "message-id"]
    canon = ""
    for h in signed:
        for name, value in reversed(fields):
            if name.strip().lower() == h:
                canon += relaxed_header(name, value)
                break
    bh = base64.b64encode(hashlib.sha256(
        relaxed_body(body).encode()).digest()).decode()
    tags = ("v=1; a=rsa-sha256; c=relaxed/relaxed; d=%s; s=%s; t=%d; "
            "bh=%s; h=%s; b=" % (domain, selector, int(time.time()), bh,
                                 ":".join(signed)))
    canon += relaxed_header("DKIM-Signature", tags)[:-2]
    key = serialization.load_pem_private_key(key_pem, password=None)
    sig = key.sign(canon.encode(), padding.PKCS1v15(), hashes.SHA256())
    return "DKIM-Signature: " + tags + base64.b64encode(sig).decode() + \
        "\r\n" + msg


def message(from_domain, msgid=True, body="Hello from the auth suite.\r\n"):
    """A small RFC 5322 message from sender@from_domain."""
    hdr = ("From: Sender <sender@%s>\r\n"
           "To: <user1@gmail.com>\r\n"
           "Subject: auth test\r\n"
           "Date: Mon, 23 Nov 2026 10:00:00 +0000\r\n" % from_domain)
    if msgid:
        hdr += "Message-ID: <%d.%d@%s>\r\n" % (
            time.time_ns(), random.randrange(1 << 30), from_domain)
    return hdr + "\r\n" + body


def dns_name(r, p):
    """The (possibly compressed) domain name at r[p:]."""
    labels = []
    for _ in range(128):
        n = r[p]
        if n == 0:
            return ".".join(labels)
        if n & 0xc0 == 0xc0:
            p = ((n & 0x3f) << 8) | r[p + 1]
            continue
        labels.append(r[p + 1:p + 1 + n].decode())
        p += n + 1
    raise ValueError("name loop")


def mx_rdata(r, p, n):
    """MX rdata as (preference, host)."""
    return struct.unpack(">H", r[p:p + 2])[0], dns_name(r, p + 2)


def dns_query(port, name, qtype):
    """One UDP query to the scenario's DNS server: (rcode, answers) with
    answers as (type, rdata bytes)."""
    qid = random.randrange(1 << 16)
    q = struct.pack(">HHHHHH", qid, 0, 1, 0, 0, 0)
    for label in name.split("."):
        q += bytes([len(label)]) + label.encode()
    q += b"\0" + struct.pack(">HH", qtype, 1)
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(3)
    try:
        s.sendto(q, ("127.0.0.1", port))
        r, _ = s.recvfrom(4096)
    finally:
        s.close()
    rid, flags, qd, an, _, _ = struct.unpack(">HHHHHH", r[:12])
    if qtype == 15:
        decode = mx_rdata
    else:
        def decode(_, p, n):
            return r[p:p + n]
    assert rid == qid, "answer to another query"
    pos = 12

    def skip_name(p):
        while True:
            n = r[p]
            if n == 0:
                return p + 1
            if n & 0xc0 == 0xc0:
                return p + 2
            p += n + 1
    for _ in range(qd):
        pos = skip_name(pos) + 4
    out = []
    for _ in range(an):
        pos = skip_name(pos)
        t, _, _, rdlen = struct.unpack(">HHIH", r[pos:pos + 10])
        pos += 10
        out.append((t, decode(r, pos, rdlen)))
        pos += rdlen
    return flags & 0xf, out


class Suite:
    def __init__(self, build):
        self.build = build
        self.mxload = os.path.join(build, "harness", "mxload")
        self.tmp = tempfile.mkdtemp(prefix="mxsim-auth-")
        self.keys = os.path.join(self.tmp, "keys")
        os.mkdir(self.keys)
        self.port = free_port()
        self.dns_port = self.udp_port()
        with open(SCENARIO) as f:
            text = f.read()
        text = text.replace("127.0.0.1:5399", "127.0.0.1:%d" % self.dns_port)
        self.scenario = os.path.join(self.tmp, "auth_e2e.yaml")
        with open(self.scenario, "w") as f:
            f.write(text)
        self.mx = Mxsim(os.path.join(build, "sim", "mxsim"),
                        ["-c", self.scenario, "-w", "1",
                         "--dkim-keys-dir", self.keys], self.port)
        with open(os.path.join(self.keys, "dkimsig.example.s1.pem"),
                  "rb") as f:
            self.key = f.read()

    def close(self):
        rc, _, err = self.mx.stop()
        shutil.rmtree(self.tmp, ignore_errors=True)
        assert rc == 0, "mxsim exit %s: %s" % (rc, err)

    @staticmethod
    def udp_port():
        """A port free for UDP and TCP on 127.0.0.1 (bounded search)."""
        for _ in range(200):
            port = random.randrange(30000, 40000)
            u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            t = socket.socket()
            try:
                u.bind(("127.0.0.1", port))
                t.bind(("127.0.0.1", port))
                return port
            except OSError:
                continue
            finally:
                u.close()
                t.close()
        raise RuntimeError("no free UDP/TCP port")

    def send(self, mail_from, msg, client=CLIENT, port=None):
        """One message from client to Gmail's MX (the suite's mxsim unless
        port is given); the end-of-DATA reply as (code, text) with a
        multi-line reply joined by spaces."""
        c = smtplib.SMTP(MX, port or self.port, source_address=(client, 0),
                         timeout=10)
        try:
            c.ehlo("client.auth.test")
            code, text = c.mail(mail_from)
            assert code == 250, (code, text)
            code, text = c.rcpt("user1@gmail.com")
            assert code == 250, (code, text)
            code, text = c.data(msg.encode())
        finally:
            try:
                c.quit()
            except (smtplib.SMTPException, OSError):
                pass
        return code, text.decode()

    def expect(self, got, code, enhanced, text):
        """The reply is code, enhanced code and text (wrapped lines each
        repeat the enhanced code; the text is rejoined at spaces)."""
        lines = got[1].split("\n")
        assert all(ln.startswith(enhanced + " ") for ln in lines), got
        joined = " ".join(ln[len(enhanced) + 1:] for ln in lines)
        want = re.compile(r"%s %s - gsmtp" % (re.escape(text), SID))
        assert got[0] == code and want.fullmatch(joined), \
            "got %r, want %d %s %r" % (got, code, enhanced, text)

    def run_mxload(self, *args):
        out = os.path.join(self.tmp, "mxload.json")
        cmd = [self.mxload, "-t", "gm=%s:%d@gmail.com" % (MX, self.port),
               "-s", CLIENT + "/32", "-c", "1", "-q", "--json", out,
               "--timeout", "10"] + list(args)
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
        assert p.returncode == 0, p.stderr
        with open(out) as f:
            return json.load(f)

    def test_spf_pass(self):
        self.expect(self.send("a@spfpass.example",
                              message("spfpass.example")), 250, "2.0.0", "OK")

    def test_spf_hardfail(self):
        self.expect(self.send("a@spffail.example",
                              message("spffail.example")), 550, "5.7.26", SPF_FAIL)

    def test_unauthenticated(self):
        # SPF ~all (softfail) and no signature: Gmail's 4.7.26 deferral
        self.expect(self.send("a@dkimsig.example",
                              message("dkimsig.example")), 421, "4.7.26", UNAUTH)

    def test_dkim_signed_mxload(self):
        # signed by mxload with the key mxsim generated and wrote: DKIM
        # passes while SPF softfails -> accepted; unsigned -> deferred
        j = self.run_mxload("-n", "3", "-f", "dkimsig.example",
                            "--dkim-key", os.path.join(
                                self.keys, "dkimsig.example.s1.pem"),
                            "--dkim-selector", "s1", "--list-unsubscribe",
                            "-z", "20000")
        assert j["outcome"]["accepted"] == 3, j
        rows = [(r["stage"], r["code"], r["enhanced"]) for r in j["rows"]]
        assert rows == [("eod", 250, "2.0.0")], rows
        j = self.run_mxload("-n", "2", "-f", "dkimsig.example")
        assert j["outcome"]["deferred"] == 2, j
        assert [(r["code"], r["enhanced"]) for r in j["rows"]] == \
            [(421, "4.7.26")], j["rows"]

    def test_dkim_wrong_key(self):
        # d=spffail.example has no key: the signature does not pass, SPF
        # fails hard -> the SPF 550
        j = self.run_mxload("-n", "1", "-f", "spffail.example",
                            "--dkim-key", os.path.join(
                                self.keys, "dkimsig.example.s1.pem"),
                            "--dkim-selector", "s1")
        assert [(r["code"], r["enhanced"]) for r in j["rows"]] == \
            [(550, "5.7.26")], j["rows"]

    def test_dkim_signed_python(self):
        msg = dkim_sign(message("dkimsig.example"), "dkimsig.example", "s1",
                        self.key)
        self.expect(self.send("a@dkimsig.example", msg), 250, "2.0.0", "OK")

    def test_dkim_pass_spf_hardfail(self):
        # MAIL FROM fails SPF with -all, but the dkimsig.example signature
        # passes: Gmail asks for SPF or DKIM -> accepted
        msg = dkim_sign(message("dkimsig.example"), "dkimsig.example", "s1",
                        self.key)
        self.expect(self.send("a@spffail.example", msg), 250, "2.0.0", "OK")

    def test_dkim_tampered_body(self):
        msg = dkim_sign(message("dkimsig.example"), "dkimsig.example", "s1",
                        self.key)
        msg = msg.replace("Hello from", "Hullo from")
        self.expect(self.send("a@dkimsig.example", msg), 421, "4.7.26", UNAUTH)

    def test_dmarc_reject_unaligned(self):
        # SPF passes for spfpass.example, the From is dmarc.example
        # (p=reject), unsigned: DMARC fails
        self.expect(self.send("a@spfpass.example",
                              message("dmarc.example")), 550, "5.7.26", DMARC)

    def test_dmarc_mxload_from_header(self):
        j = self.run_mxload("-n", "1", "-f", "spfpass.example",
                            "--from-header", "dmarc.example")
        assert [(r["code"], r["enhanced"]) for r in j["rows"]] == \
            [(550, "5.7.26")], j["rows"]
        assert j["rows"][0]["text"].startswith("Unauthenticated email"), j

    def test_missing_message_id(self):
        self.expect(self.send("a@spfpass.example",
                              message("spfpass.example", msgid=False)),
                    550, "5.7.1", MSGID)

    def test_dns_txt_and_mx(self):
        def txt(t):
            return (16, bytes([len(t)]) + t)
        rc, ans = dns_query(self.dns_port, "_dmarc.dmarc.example", 16)
        assert rc == 0 and ans == [txt(b"v=DMARC1; p=reject")], ans
        rc, ans = dns_query(self.dns_port, "spffail.example", 16)
        assert rc == 0 and ans == [
            txt(b"v=spf1 ip4:192.0.2.0/24 -all")], ans
        rc, ans = dns_query(self.dns_port, "s1._domainkey.dkimsig.example",
                            16)
        assert rc == 0 and len(ans) == 1 and \
            b"v=DKIM1; k=rsa; p=MII" in ans[0][1], ans
        rc, ans = dns_query(self.dns_port, "gmail.com", 15)
        assert rc == 0 and (15, (5, "gmail-smtp-in.l.google.com")) in ans, \
            ans
        rc, ans = dns_query(self.dns_port, "dmarc.example", 15)
        assert rc == 0 and ans == [(15, (5, "mail.dmarc.example"))], ans
        rc, ans = dns_query(self.dns_port, "nothere.dmarc.example", 1)
        assert rc == 3 and ans == [], (rc, ans)

    def test_reverse_dns(self):
        # A scenario of its own: Gmail on 127.1.0.0/24, clients without
        # PTR (127.9.1.0/24), with a PTR whose forward A points elsewhere
        # (127.9.2.0/24) and with a valid one (127.9.3.0/24).  Gmail's
        # 4.7.23 at end of DATA, 250 for the valid client; the scenario's
        # DNS server answers PTR and A the same way.
        dns_port = self.udp_port()
        path = os.path.join(self.tmp, "rdns.yaml")
        with open(path, "w") as f:
            f.write("seed: 7\n"
                    "servers: [{profile: gmail, addresses: [127.1.0.0/24]}]\n"
                    "dns: {listen: \"127.0.0.1:%d\"}\n"
                    "senders:\n"
                    "  domains:\n"
                    "    shop.example:\n"
                    "      dns: {spf: \"v=spf1 ip4:127.9.0.0/16 -all\"}\n"
                    "  reverse_dns:\n"
                    "    - {addresses: 127.9.1.0/24, ptr: none}\n"
                    "    - {addresses: 127.9.2.0/24, ptr: mail.rdns.example,"
                    " forward: mismatch}\n"
                    "    - {addresses: 127.9.3.0/24, ptr: out.rdns.example}\n"
                    % dns_port)
        mx = Mxsim(os.path.join(self.build, "sim", "mxsim"),
                   ["-c", path, "-w", "1"], free_port())
        try:
            def send(client):
                return self.send("a@shop.example", message("shop.example"),
                                 client, mx.port)
            for client in ("127.9.1.5", "127.9.2.5"):
                self.expect(send(client), 451, "4.7.23", PTR_TEMP % client)
            self.expect(send("127.9.3.5"), 250, "2.0.0", "OK")
            self.expect(send("127.9.4.5"), 250, "2.0.0", "OK")

            def name(n):
                return b"".join(bytes([len(x)]) + x.encode()
                                for x in n.split(".")) + b"\0"
            rc, ans = dns_query(dns_port, "5.1.9.127.in-addr.arpa", 12)
            assert rc == 3 and ans == [], (rc, ans)
            rc, ans = dns_query(dns_port, "5.2.9.127.in-addr.arpa", 12)
            assert rc == 0 and ans == [(12, name("mail.rdns.example"))], ans
            rc, ans = dns_query(dns_port, "mail.rdns.example", 1)
            assert rc == 0 and ans == [(1, bytes([192, 0, 2, 1]))], ans
            rc, ans = dns_query(dns_port, "5.3.9.127.in-addr.arpa", 12)
            assert rc == 0 and ans == [(12, name("out.rdns.example"))], ans
            if shutil.which("dig") is not None:
                # dig -x, then the forward name over TCP (256 A records)
                p = subprocess.run(
                    ["dig", "@127.0.0.1", "-p", str(dns_port), "+short",
                     "+time=2", "+tries=1", "-x", "127.9.3.5"],
                    capture_output=True, text=True, timeout=20)
                assert p.stdout.strip() == "out.rdns.example.", p.stdout
                p = subprocess.run(
                    ["dig", "@127.0.0.1", "-p", str(dns_port), "+short",
                     "+tcp", "+time=2", "+tries=1", "A", "out.rdns.example"],
                    capture_output=True, text=True, timeout=20)
                got = p.stdout.split()
                assert len(got) == 256 and "127.9.3.5" in got, p.stdout
        finally:
            rc, _, err = mx.stop()
            shutil.rmtree(mx.dir, ignore_errors=True)
        assert rc == 0, "mxsim exit %s: %s" % (rc, err)

    def test_dns_dig(self):
        if shutil.which("dig") is None:
            from mxsim_proc import Skip
            raise Skip("dig not installed")
        p = subprocess.run(["dig", "@127.0.0.1", "-p", str(self.dns_port),
                            "+short", "+time=2", "+tries=1", "TXT",
                            "_dmarc.dmarc.example"],
                           capture_output=True, text=True, timeout=20)
        assert p.stdout.strip() == '"v=DMARC1; p=reject"', p.stdout


if __name__ == "__main__":
    sys.exit(run_suite("auth", Suite))
