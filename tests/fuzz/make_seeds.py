#!/usr/bin/env python3
"""Regenerate the seed corpora in tests/fuzz/corpus/ (committed).

smtp: the client side of tests/data/smtp_dialogue.txt and of the string
cases of tests/test_smtp_session.c, plus hostile inputs, each prefixed with
the two control bytes of fuzz_smtp.c (MX/client/ending, chunking seed).
profile, scenario: the bundled profiles and tests/data/*.yaml.
dns: queries as dig sends them (RD, EDNS with a client cookie) and as
stub resolvers do (no EDNS) for every record type and kind of name of
fuzz_dns.yaml, plus malformed ones, each prefixed with the transport byte
of fuzz_dns.c (0 UDP, 1 TCP).
"""
import hashlib
import os
import re
import shutil
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))


def put(target, data):
    d = os.path.join(HERE, "corpus", target)
    os.makedirs(d, exist_ok=True)
    name = hashlib.sha1(data).hexdigest()[:16]
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def c_strings(path):
    """The input strings of the session test cases (adjacent literals joined)."""
    src = open(path, encoding="utf-8").read()
    macros = dict(re.findall(r'#define\s+(MAIL_A|RCPT_B|ENV)\s+(.*)', src))
    out = []
    for m in re.finditer(r'\{ "([^"]*)",\s*\n((?:\s*(?:"(?:[^"\\]|\\.)*"|[A-Z_]+(?:\(\w*\))?)\s*\n?)+?),', src):
        lits = re.findall(r'"((?:[^"\\]|\\.)*)"', m.group(2))
        s = "".join(lits)
        if "ENV" in m.group(2).split('"')[0]:
            s = "EHLO client.example\r\nMAIL FROM:<Alice@Sender.Example>\r\n" \
                "RCPT TO:<Bob@Test.Example>\r\nDATA\r\n" + s
        out.append(s.encode("latin-1").decode("unicode_escape").encode("latin-1"))
    return out


def smtp_seeds():
    dialogue = b""
    for line in open(os.path.join(ROOT, "tests", "data", "smtp_dialogue.txt"), "rb"):
        if line.startswith(b"C: "):
            dialogue += line[3:].rstrip(b"\r\n") + b"\r\n"
    body = b"Subject: x\r\n\r\n" + b"line\r\n" * 50 + b"..dot\r\n.\r\n"
    txn = (b"EHLO c.example\r\nMAIL FROM:<a@auth.example> SIZE=100\r\n"
           b"RCPT TO:<b@gmail.com>\r\nRCPT TO:<unknown1@x.example>\r\n"
           b"RCPT TO:<c@y.example>\r\nRCPT TO:<d@y.example>\r\nDATA\r\n")
    inputs = [dialogue] + c_strings(os.path.join(ROOT, "tests", "test_smtp_session.c")) + [
        txn + body + txn[len(b"EHLO c.example\r\n"):] + body + b"QUIT\r\n",
        b"EHLO c\r\nMAIL FROM:<x@unauth.example>\r\nRCPT TO:<a@b.example>\r\nDATA\r\nhi\r\n.\r\n" * 3,
        b"EHLO c\r\nMAIL FROM:<x@y.example> SIZE=99999999\r\n",
        b"EHLO " + b"A" * 9000 + b"\r\nNOOP\r\n",
        b"EHL\x00O c\r\nMA\xffIL FROM:<\xe9@x.example>\r\n\x00\x00\r\n",
        b"EHLO c\r\n" + b"NOOP\r\n" * 1500,
        b"EHLO c\r\nMAIL FROM:<a@b.example>\r\nRCPT TO:<c@d.example>\r\nDATA\r\n"
        + b"x" * 1500 + b"\r\n.\r\n",
        b"EHLO c\rd\r\nHELO \x01\x7f\r\nMAIL FROM:<a\rb@c.example>\r\n",
    ]
    for i, data in enumerate(inputs):
        for sel in (0x00, 0x05, 0x21, 0x45, 0x80 | (i % 8), 0x62):
            put("smtp", bytes([sel, i & 0xff]) + data)


def dns_name(name):
    """A domain name in wire form (no compression)."""
    out = b""
    for label in name.rstrip(".").split("."):
        if label:
            out += bytes([len(label)]) + label.encode("ascii")
    return out + b"\0"


def dns_query(qid, name, qtype, qclass=1, flags=0x0100, edns=True,
              qdcount=1):
    """One query: header, question, and dig's OPT record with a cookie."""
    arcount = 1 if edns else 0
    q = qid.to_bytes(2, "big") + flags.to_bytes(2, "big") + \
        qdcount.to_bytes(2, "big") + b"\0\0\0\0" + arcount.to_bytes(2, "big")
    q += dns_name(name) + qtype.to_bytes(2, "big") + qclass.to_bytes(2, "big")
    if edns:
        cookie = hashlib.sha1(name.encode()).digest()[:8]
        opt = (10).to_bytes(2, "big") + (8).to_bytes(2, "big") + cookie
        q += b"\0" + (41).to_bytes(2, "big") + (1232).to_bytes(2, "big") + \
            b"\0\0\0\0" + len(opt).to_bytes(2, "big") + opt
    return q


def dns_seeds():
    A, MX, TXT, PTR, SOA, ANY, AAAA = 1, 15, 16, 12, 6, 255, 28
    asks = [
        ("gmail.com", MX), ("gmail.com", SOA), ("gmail.com", ANY),
        ("gmail-smtp-in.l.google.com", A), ("outlook.com", MX),
        ("spfpass.example", TXT), ("_dmarc.spfpass.example", TXT),
        ("s1._domainkey.dkimsig.example", TXT), ("dmarc.example", ANY),
        ("dmarc.example", MX), ("mail.dmarc.example", A),
        ("info.dmarc.example", TXT), ("5.90.0.127.in-addr.arpa", PTR),
        ("7.91.0.127.in-addr.arpa", PTR), ("mail.example.net", A),
        ("out.example.org", A), ("dmarc.example", AAAA),
        ("nothere.dmarc.example", A), ("example.com", A), (".", SOA),
        ("GMail.COM.", MX),
    ]
    inputs = []
    for i, (name, t) in enumerate(asks):
        inputs.append(dns_query(0x1000 + i, name, t))
        inputs.append(dns_query(0x2000 + i, name, t, flags=0, edns=False))
    inputs += [
        dns_query(1, "gmail.com", MX, qclass=3),            # CH class
        dns_query(2, "gmail.com", MX, flags=0x2800),        # UPDATE
        dns_query(3, "gmail.com", MX, flags=0x8180),        # a response
        dns_query(4, "gmail.com", MX, qdcount=2),
        dns_query(5, "gmail.com", MX)[:20],                 # cut short
        b"\0\6\1\0\0\1\0\0\0\0\0\0\xc0\x0c\0\1\0\1",  # pointer loop
        b"\0\7\1\0",
    ]
    for i, q in enumerate(inputs):
        for transport in (0, 1):
            put("dns", bytes([transport]) + q)


def yaml_seeds():
    data = os.path.join(ROOT, "tests", "data")
    for d, files in ((os.path.join(ROOT, "profiles"), os.listdir(os.path.join(ROOT, "profiles"))),
                     (data, os.listdir(data)), (HERE, os.listdir(HERE))):
        for f in sorted(files):
            if not f.endswith(".yaml"):
                continue
            text = open(os.path.join(d, f), "rb").read()
            scenario = b"servers:" in text
            put("scenario" if scenario else "profile", text)


if __name__ == "__main__":
    # only the corpora made here (corpus/ctl is written by hand); name
    # some of them to regenerate only those
    makers = {"smtp": smtp_seeds, "profile": yaml_seeds,
              "scenario": yaml_seeds, "dns": dns_seeds}
    chosen = sys.argv[1:] or list(makers)
    for t in chosen:
        shutil.rmtree(os.path.join(HERE, "corpus", t), ignore_errors=True)
    for maker in dict.fromkeys(makers[t] for t in chosen):
        maker()
    for t in chosen:
        print(t, len(os.listdir(os.path.join(HERE, "corpus", t))))
