#!/usr/bin/env python3
"""End-to-end tests of the control API and /metrics: a real mxsim on
loopback with --control/--metrics, changed over HTTP (urllib) while SMTP
clients (smtplib, raw sockets, mxload) see the effect.  Also the API's
contract: every operation of its OpenAPI document (sim/ctl/openapi.json)
answers as documented (statuses, bodies validated against the document's
schemas with jsonschema), and the server's route table (GET /v1) is the
document's; the bearer token (--control-token-file), on loopback and from
a network namespace's non-loopback address.

Usage: test_control.py --build BUILD_DIR [TEST_NAME ...]
Prints one line per test and ends with "control: N passed, N failed".
"""
import collections
import json
import os
import re
import socket
import stat
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

import jsonschema

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from mxsim_proc import Client, Mxsim, Skip, enhanced, free_port, free_ports, read_events, run_suite  # noqa: E402

SRC = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
OPENAPI = os.path.join(SRC, "sim", "ctl", "openapi.json")
DEPRECATION = "@1796601600"     # RFC 9745: the old paths, since 2026-12-07

GMAIL_MX = "127.1.0.5"
MS_MX = "127.2.0.5"
GENERIC_MX = "127.4.0.5"
SINK_MX = "127.0.0.1"

# urllib must not send loopback requests to a proxy from the environment
OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def http(method, url, body=None, token=None):
    """One request (with "Authorization: Bearer TOKEN" when given);
    returns (status, headers, body bytes)."""
    if body is not None and not isinstance(body, (bytes, str)):
        body = json.dumps(body)
    if isinstance(body, str):
        body = body.encode()
    req = urllib.request.Request(url, data=body, method=method)
    if body is not None:
        req.add_header("Content-Type", "application/json")
    if token is not None:
        req.add_header("Authorization", "Bearer " + token)
    try:
        with OPENER.open(req, timeout=10) as r:
            return r.status, r.headers, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.headers, e.read()


def http_json(method, url, body=None, token=None):
    status, _, data = http(method, url, body, token)
    return status, json.loads(data)


def token_file(directory, token, mode=0o600):
    """A token file of that mode; its path."""
    path = os.path.join(directory, "token")
    with open(path, "w") as f:
        f.write(token + "\n")
    os.chmod(path, mode)
    return path


# Reals in a body print in their shortest exact form, as Python's repr
# does (29.966, never 29.966000000000001; 1/3 as 0.3333333333333333).
NUMBER = re.compile(rb'[:\[,](-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?)(?=[,}\]])')


def check_reals(body):
    for m in NUMBER.finditer(body):
        tok = m.group(1).decode()
        if "." in tok or "e" in tok.lower():
            assert tok == repr(float(tok)), (tok, body[:200])


def key_tree(value):
    """{key: subtree or None} of nested JSON objects."""
    if not isinstance(value, dict):
        return None
    return {k: key_tree(v) for k, v in value.items()}


class Contract:
    """The OpenAPI document: its operations, and a validator of a body
    against one of its response schemas."""

    def __init__(self, doc):
        self.doc = doc
        self.resolver = jsonschema.RefResolver.from_schema(doc)

    def operations(self):
        """(path template, METHOD, operation, path-level parameters)."""
        for path, item in self.doc["paths"].items():
            for method, op in item.items():
                if method in ("get", "put", "patch", "delete", "post"):
                    yield path, method.upper(), op, item.get("parameters", [])

    def response(self, op, status):
        r = op["responses"][str(status)]
        if "$ref" in r:
            r = self.doc["components"]["responses"][r["$ref"].rsplit("/", 1)[1]]
        return r

    def key_tree(self, schema):
        """{key: subtree or None} of an object schema's properties."""
        while "$ref" in schema:
            schema = self.doc["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
        if "properties" not in schema:
            return None
        return {k: self.key_tree(v) for k, v in schema["properties"].items()}

    def validate(self, schema, value):
        jsonschema.Draft202012Validator(schema, resolver=self.resolver).validate(value)

    def check(self, where, op, status, hdr, data):
        """The answer is documented: its status, media type and body."""
        assert str(status) in op["responses"], (where, status, data[:300])
        r = self.response(op, status)
        ctype = hdr["Content-Type"].split(";")[0]
        assert ctype in r["content"], (where, status, ctype)
        if ctype == "application/json":
            check_reals(data)
            try:
                self.validate(r["content"][ctype]["schema"], json.loads(data))
            except jsonschema.ValidationError as e:
                raise AssertionError("%s %s: %s" % (where, status, e.message)) from None
        for name in r.get("headers", {}):
            assert hdr[name], (where, status, name)


def greeting(mx, port, source):
    """The first reply line of a fresh connection (raw socket)."""
    s = socket.create_connection((mx, port), timeout=10,
                                 source_address=(source, 0))
    try:
        f = s.makefile("rb")
        line = f.readline()
        while line[3:4] == b"-":
            line = f.readline()
        return line
    finally:
        s.close()


def parse_metrics(text):
    """{(name, frozenset(labels)): value} of a Prometheus text page."""
    out = {}
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        m = re.match(r'([a-z_]+)(?:\{(.*)\})? (\S+)$', line)
        assert m, line
        labels = frozenset(re.findall(r'([a-z_]+)="((?:[^"\\]|\\.)*)"', m.group(2) or ""))
        out[(m.group(1), labels)] = float(m.group(3))
    return out


def leaf_paths(obj, prefix=()):
    """(key path tuple, value) of every scalar in nested dicts."""
    for k, v in obj.items():
        if isinstance(v, dict):
            yield from leaf_paths(v, prefix + (k,))
        else:
            yield prefix + (k,), v


def nest(flat):
    """{key path tuple: value} -> nested dicts."""
    out = {}
    for path, v in flat.items():
        d = out
        for k in path[:-1]:
            d = d.setdefault(k, {})
        d[path[-1]] = v
    return out


# One HTTP request from inside a network namespace (ip netns exec): argv
# METHOD URL TOKEN BODY ("" for none); prints {status, www, body}.
NETNS_CLIENT = r"""
import json, sys, urllib.error, urllib.request
method, url, token, body = sys.argv[1:5]
req = urllib.request.Request(url, data=body.encode() or None, method=method)
if body:
    req.add_header("Content-Type", "application/json")
if token:
    req.add_header("Authorization", "Bearer " + token)
opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
try:
    with opener.open(req, timeout=10) as r:
        st, h, d = r.status, r.headers, r.read()
except urllib.error.HTTPError as e:
    st, h, d = e.code, e.headers, e.read()
print(json.dumps({"status": st, "www": h.get("WWW-Authenticate"), "body": d.decode()}))
"""


def sh(*cmd):
    subprocess.run(cmd, check=True, capture_output=True, timeout=30)


class Suite:
    def __init__(self, build):
        self.mxsim_bin = os.path.join(build, "sim", "mxsim")
        self.mxload_bin = os.path.join(build, "harness", "mxload")

    def start(self, *args, metrics=None, same=False, token=None, host="127.0.0.1"):
        """mxsim with --control on its own port of host (and --metrics
        there if asked; --control-token-file token when given)."""
        self.port, self.cport, mport = free_ports(3)
        self.api = "http://%s:%d" % (host, self.cport)
        extra = ["--control", "%s:%d" % (host, self.cport)]
        if token is not None:
            extra += ["--control-token-file", token]
        if same:
            extra += ["--metrics", "%s:%d" % (host, self.cport)]
            self.metrics = self.api + "/metrics"
        elif metrics:
            extra += ["--metrics", "%s:%d" % (host, mport)]
            self.metrics = "http://%s:%d/metrics" % (host, mport)
        return Mxsim(self.mxsim_bin, list(args) + extra, self.port)

    # -- tests --------------------------------------------------------------

    def test_patch_limits(self):
        """PATCH gmail per_ip minute 3: the 4th message gets 421 4.7.28, before it got 250."""
        m = self.start()
        try:
            c = Client(GMAIL_MX, self.port, "127.0.40.1")
            before = [c.message("a@auth.example", "u%d@gmail.com" % i)[:2] for i in range(4)]
            assert before == [("eod", 250)] * 4, before
            held = Client(GMAIL_MX, self.port, "127.0.40.3")   # open across the change
            st, body = http_json("PATCH", self.api + "/v1/providers/gmail/limits",
                                 {"per_ip": {"messages": {"minute": 3}}})
            assert st == 200, body
            assert body["per_ip"]["messages"]["minute"] == 3, body
            assert body["per_ip"]["messages"]["hour"] == 3000, body   # untouched
            st, prov = http_json("GET", self.api + "/v1/providers/gmail")
            assert prov["limits"]["per_ip"]["messages"]["minute"] == 3, prov
            assert prov["domains"] == ["gmail.com", "googlemail.com"], prov
            c2 = Client(GMAIL_MX, self.port, "127.0.40.2")
            after = [c2.message("b@auth.example", "v%d@gmail.com" % i) for i in range(4)]
            assert [r[:2] for r in after[:3]] == [("eod", 250)] * 3, after
            stage, code, text = after[3]
            assert (stage, code, enhanced(text)) == ("eod", 421, "4.7.28"), after[3]
            assert b"127.0.40.2" in text, text
            # a session opened before the change decides with the new limits
            r = [held.message("h@auth.example", "w%d@gmail.com" % i)[:2] for i in range(4)]
            assert r == [("eod", 250)] * 3 + [("eod", 421)], r
            # other providers keep theirs
            st, ms = http_json("GET", self.api + "/v1/providers/microsoft/limits")
            assert st == 200 and ms["per_ip"]["messages"]["minute"] != 3, ms
        finally:
            rc, out, err = m.stop()
        assert rc == 0, err

    def test_limits_every_key(self):
        """Every limits key through PATCH and GET; {"max_hops": 3} turns a 4-hop message into 554 5.4.6."""
        m = self.start()
        try:
            url = self.api + "/v1/providers/gmail/limits"
            hops = "".join("Received: from h%d.example by h%d.example; "
                           "Mon, 7 Dec 2026 03:00:00 +0000\r\n" % (i, i + 1) for i in range(4))

            def send(n):
                body = ("%sFrom: <a@auth.example>\r\nMessage-ID: <hops%d.%d@e2e.test>\r\n"
                        "Subject: t\r\n\r\nhello\r\n" % (hops, os.getpid(), n))
                c = Client(GMAIL_MX, self.port, "127.0.47.%d" % n)
                try:
                    return c.message("a@auth.example", "u%d@gmail.com" % n, body)
                finally:
                    c.close()

            assert send(1)[:2] == ("eod", 250)
            st, body = http_json("PATCH", url, {"max_hops": 3})
            assert (st, body["max_hops"]) == (200, 3), body
            stage, code, text = send(2)
            assert (stage, code, enhanced(text)) == ("eod", 554, "5.4.6"), text
            assert b"exceeded 3 hops" in text, text

            st, before = http_json("GET", url)
            assert st == 200 and len(before) == 25, before  # issue 16: per_user, per_pair, max_attachments, count_refused, helo_names_per_ip
            leaves = sorted(leaf_paths(before))
            # every leaf to its own value at once, then each alone: GET
            # always shows exactly what was set
            want = {}
            for i, (path, v) in enumerate(leaves):
                want[path] = 1.5 + i if isinstance(v, float) else 1000 + i
            if ("max_message_size",) in want:
                want[("max_message_size",)] = 1 << 40
            st, body = http_json("PATCH", url, nest(want))
            assert st == 200 and body == nest(want), body
            for i, path in enumerate(sorted(want)):
                want[path] = 2.5 + i if isinstance(want[path], float) else 2000 + i
                st, body = http_json("PATCH", url, nest({path: want[path]}))
                assert st == 200, (path, body)
                st, body = http_json("GET", url)
                assert body == nest(want), (path, body)
            st, prov = http_json("GET", self.api + "/v1/providers/gmail")
            assert prov["limits"] == nest(want), prov
        finally:
            rc, out, err = m.stop()
        assert rc == 0, err

    def test_outage(self):
        """PUT outage: Gmail's 421 4.3.0 at greeting; DELETE: 220 again."""
        m = self.start()
        try:
            assert greeting(GMAIL_MX, self.port, "127.0.41.1").startswith(b"220 "), "before"
            st, body = http_json("PUT", self.api + "/v1/providers/gmail/outage", {"duration_s": 300})
            assert st == 200 and body["active"] is True, body
            assert 299 <= body["remaining_s"] <= 300, body
            line = greeting(GMAIL_MX, self.port, "127.0.41.1")
            assert re.match(rb"421[ -]4\.3\.0 ", line), line
            assert greeting(MS_MX, self.port, "127.0.41.1").startswith(b"220 ")
            st, prov = http_json("GET", self.api + "/v1/providers/gmail")
            assert prov["outage"]["active"] is True, prov
            st, body = http_json("DELETE", self.api + "/v1/providers/gmail/outage")
            assert st == 200 and body["active"] is False, body
            assert greeting(GMAIL_MX, self.port, "127.0.41.1").startswith(b"220 ")
        finally:
            rc, out, err = m.stop()
        assert rc == 0, err
        ev = read_events(m.events)
        out_ev = [e for e in ev if e["reason"] == "outage"]
        assert len(out_ev) == 1 and out_ev[0]["stage"] == "connect", out_ev
        assert (out_ev[0]["code"], out_ev[0]["enhanced"]) == (421, "4.3.0"), out_ev

    def test_reputation(self):
        """PUT reputation ip score 5: 550 5.7.1 at end of DATA; others still 250."""
        m = self.start()
        try:
            st, body = http_json("GET", self.api + "/v1/reputation/ip/gmail/127.0.42.1")
            assert st == 200 and body["score"] == 80, body
            st, body = http_json("PUT", self.api + "/v1/reputation/ip/gmail/127.0.42.1", {"score": 5})
            assert st == 200 and abs(body["score"] - 5) < 0.01, body
            c = Client(GMAIL_MX, self.port, "127.0.42.1")
            stage, code, text = c.message("a@auth.example", "x@gmail.com")
            assert (stage, code, enhanced(text)) == ("eod", 550, "5.7.1"), (stage, code, text)
            assert b"reputation" in text, text
            c.close()
            c = Client(GMAIL_MX, self.port, "127.0.42.2")
            assert c.message("a@auth.example", "x@gmail.com")[:2] == ("eod", 250)
            c.close()
            st, body = http_json("PUT", self.api + "/v1/reputation/domain/gmail/Auth.Example",
                                 {"score": 30})
            assert st == 200 and body["key"] == "auth.example", body
            c = Client(GMAIL_MX, self.port, "127.0.42.3")
            stage, code, text = c.message("a@auth.example", "x@gmail.com")
            assert (stage, code, enhanced(text)) == ("eod", 421, "4.7.0"), (stage, code, text)
            c.close()
        finally:
            rc, out, err = m.stop()
        assert rc == 0, err

    def _load_and_compare(self, same):
        m = self.start("--workers", "2", metrics=True, same=same)
        try:
            st, _ = http_json("PATCH", self.api + "/v1/providers/gmail/limits",
                              {"per_ip": {"messages": {"minute": 5}}})
            assert st == 200
            p = subprocess.run([self.mxload_bin,
                                "-t", "gmail=127.1.0.0/30:%d@gmail.com" % self.port,
                                "-t", "sink=%s:%d" % (SINK_MX, self.port),
                                "-s", "127.0.44.0/30", "-f", "auth.example,unauth.example",
                                "-n", "120", "-c", "4", "-m", "3"],
                               capture_output=True, text=True, timeout=120)
            assert p.returncode == 0, p.stdout + p.stderr
            # wait (bounded) until the event log has caught up with the counters
            deadline = time.time() + 10
            while True:
                st, cnt = http_json("GET", self.api + "/v1/counters")
                total = sum(r["count"] for prov in cnt["providers"].values()
                            for r in prov["replies"])
                if cnt["totals"]["event_log"]["written"] == total or time.time() > deadline:
                    break
                time.sleep(0.2)
            st, hdr, page = http("GET", self.metrics)
            assert st == 200 and hdr["Content-Type"].startswith("text/plain; version=0.0.4"), hdr
        finally:
            rc, out, err = m.stop()
        assert rc == 0, err
        ev = read_events(m.events)
        assert len(ev) > 200, len(ev)
        want = collections.Counter((e["provider"], e["reason"], e["code"], e["enhanced"])
                                   for e in ev)
        got = collections.Counter()
        for name, prov in cnt["providers"].items():
            for r in prov["replies"]:
                got[(name, r["reason"], r["code"], r["enhanced"])] += r["count"]
        assert got == want, (got - want, want - got)
        assert any(k[1] == "rate.ip" for k in want), want
        for name, prov in cnt["providers"].items():
            mine = [e for e in ev if e["provider"] == name]
            assert prov["connections"] == sum(e["stage"] == "connect" for e in mine), name
            assert prov["messages"] == sum(e["stage"] == "eod" and e["code"] == 250
                                           for e in mine), name
            assert prov["replies_4xx"] == sum(400 <= e["code"] < 500 for e in mine), name
            assert prov["replies_5xx"] == sum(e["code"] >= 500 for e in mine), name
            # every accepted message ended its transaction accepted
            assert prov["transactions"]["accepted"] == prov["messages"], name
        t = cnt["totals"]
        assert t["connections"] == sum(e["stage"] == "connect" for e in ev), t
        assert t["event_log"] == {"written": len(ev), "dropped": 0}, t
        assert t["open_connections"] == 0, t
        met = parse_metrics(page.decode())
        mrep = collections.Counter()
        for (name, labels), v in met.items():
            if name == "mxsim_replies_total":
                d = dict(labels)
                mrep[(d["provider"], d["reason"], int(d["code"]), d["enhanced"] or None)] += int(v)
        assert mrep == want, (mrep - want, want - mrep)
        assert met[("mxsim_evlog_events_total", frozenset())] == len(ev)
        assert met[("mxsim_evlog_dropped_total", frozenset())] == 0
        for name in cnt["providers"]:
            lab = frozenset({("provider", name)})
            assert met[("mxsim_connections_total", lab)] == cnt["providers"][name]["connections"]
            assert met[("mxsim_messages_accepted_total", lab)] == \
                cnt["providers"][name]["messages"]
        workers = [v for (n, lab), v in met.items() if n == "mxsim_worker_sessions_total"]
        assert len(workers) == 2 and sum(workers) == t["connections"], workers
        # every tracked IP is in one provider's reputation histogram
        ips = met[("mxsim_tracked_identities", frozenset({("kind", "ip")}))]
        counts = sum(v for (n, lab), v in met.items()
                     if n == "mxsim_reputation_count" and ("kind", "ip") in lab)
        assert ips >= 2 and counts == ips, (ips, counts)
        hist = met[("mxsim_reputation_count", frozenset({("provider", "gmail"), ("kind", "ip")}))]
        assert met[("mxsim_reputation_bucket", frozenset({("provider", "gmail"), ("kind", "ip"),
                                                          ("le", "+Inf")}))] == hist

    def test_counters_and_metrics_equal_evlog(self):
        """After a mixed load: /counters and /metrics (own port) equal the event log."""
        self._load_and_compare(same=False)

    def test_metrics_on_control_port(self):
        """--metrics on the --control address: one daemon serves both."""
        self._load_and_compare(same=True)

    def test_transactions(self):
        """A refused MAIL with pipelined RCPT and DATA is one refused
        transaction and three 5xx replies, in /counters, /metrics and the
        exit summary; a refused recipient, an abandoned MAIL and an
        accepted message are one transaction each."""
        m = self.start(metrics=True, same=True)
        try:
            s = socket.create_connection((GENERIC_MX, self.port), timeout=10,
                                         source_address=("127.0.48.1", 0))
            f = s.makefile("rb")

            def codes(n):
                out = []
                while len(out) < n:
                    line = f.readline()
                    if line[3:4] != b"-":
                        out.append(int(line[:3]))
                return out

            assert codes(1) == [220]
            s.sendall(b"EHLO client.test\r\n")
            assert codes(1) == [250]
            # refused at MAIL (SIZE over generic's maximum): 552, 503, 503
            s.sendall(b"MAIL FROM:<a@auth.example> SIZE=99999999999\r\n"
                      b"RCPT TO:<u@example.net>\r\nDATA\r\n")
            assert codes(3) == [552, 503, 503]
            # its only recipient refused: 550, then 554 to DATA; RSET ends it
            s.sendall(b"MAIL FROM:<a@auth.example>\r\nRCPT TO:<unknown1@example.net>\r\n"
                      b"DATA\r\nRSET\r\n")
            assert codes(4) == [250, 550, 554, 250]
            # abandoned: MAIL, then QUIT
            s.sendall(b"MAIL FROM:<a@auth.example>\r\nQUIT\r\n")
            assert codes(2) == [250, 221]
            s.close()
            c = Client(GENERIC_MX, self.port, "127.0.48.2")
            assert c.message("b@auth.example", "u@example.net")[:2] == ("eod", 250)
            c.close()
            # every count below was made before the reply it follows was sent
            st, cnt = http_json("GET", self.api + "/v1/counters")
            assert st == 200, cnt
            st, _, page = http("GET", self.metrics)
            assert st == 200
        finally:
            rc, out, err = m.stop()
        assert rc == 0, err
        gen = cnt["providers"]["generic"]
        assert gen["transactions"] == {
            "accepted": 1, "deferred": 0, "refused": 2, "abandoned": 1,
            "reasons": [
                {"outcome": "refused", "reason": "size", "code": 552,
                 "enhanced": "5.3.4", "count": 1},
                {"outcome": "refused", "reason": "user.unknown", "code": 550,
                 "enhanced": "5.1.1", "count": 1}]}, gen
        assert (gen["replies_4xx"], gen["replies_5xx"], gen["messages"]) == (0, 5, 1), gen
        assert cnt["totals"]["transactions"] == {
            "accepted": 1, "deferred": 0, "refused": 2, "abandoned": 1}, cnt["totals"]
        met = parse_metrics(page.decode())
        txns = {tuple(sorted(dict(lab).items())): v for (n, lab), v in met.items()
                if n == "mxsim_transactions_total"}
        assert txns == {
            (("outcome", "accepted"), ("provider", "generic"), ("reason", "ok.message")): 1,
            (("outcome", "refused"), ("provider", "generic"), ("reason", "size")): 1,
            (("outcome", "refused"), ("provider", "generic"), ("reason", "user.unknown")): 1,
            (("outcome", "abandoned"), ("provider", "generic"), ("reason", "none")): 1}, txns
        bad_seq = frozenset({("provider", "generic"), ("code", "503"), ("enhanced", "5.5.1"),
                             ("reason", "protocol.bad_sequence")})
        assert met[("mxsim_replies_total", bad_seq)] == 2, met
        # the exit summary: one refusal per transaction, replies apart
        assert re.search(r"^generic +refused +size +552 5\.3\.4 +1$", out, re.M), out
        assert re.search(r"^generic +refused +user\.unknown +550 5\.1\.1 +1$", out, re.M), out
        assert "transactions: 1 accepted, 0 deferred (4xx), 2 refused (5xx), 1 abandoned\n" \
            in out, out
        assert re.search(r"4xx replies 0, 5xx replies 5$", out, re.M), out

    def test_bad_requests(self):
        """400 (bad JSON, unknown key path, wrong type), 404, 405, 413."""
        m = self.start()
        try:
            url = self.api + "/v1/providers/gmail/limits"
            st, body = http_json("PATCH", url, '{"per_ip": ')
            assert st == 400 and body["error"].startswith("invalid JSON at line 1"), body
            st, body = http_json("PATCH", url, {"per_ip": {"mesages": {"minute": 1}}})
            assert st == 400, body
            assert body["error"] == ("limits.per_ip.mesages: unknown key "
                                     "(expected messages, recipients)"), body
            st, body = http_json("PATCH", url, {"connections_per_ip": "5"})
            assert (st, body["error"]) == (400, "limits.connections_per_ip: expected "
                                                "an integer 0..4294967295"), body
            st, body = http_json("GET", self.api + "/v1/providers/gmail/limits")
            assert body["connections_per_ip"] == 20, body     # nothing applied
            st, body = http_json("PUT", self.api + "/v1/providers/gmail/outage", {"duration_s": -1})
            assert st == 400, body
            st, body = http_json("GET", self.api + "/v1/providers/hotmail")
            assert st == 404 and "hotmail" in body["error"], body
            st, body = http_json("GET", self.api + "/metrics")
            assert st == 404, body          # no --metrics here
            st, hdr, data = http("POST", url, "{}")
            assert st == 405 and hdr["Allow"] == "GET, PATCH", (st, hdr)
            st, hdr, data = http("PATCH", url, "{" + " " * 70000 + "}")
            assert st == 413, (st, data)
            st, body = http_json("GET", self.api + "/v1/health")
            assert (st, body) == (200, {"status": "ok"})
            st, body = http_json("GET", self.api + "/v1/clock")
            assert st == 200 and body["time_scale"] == 1 and body["sim"].endswith("Z"), body
        finally:
            rc, out, err = m.stop()
        assert rc == 0, err

    def test_refuse_non_loopback(self):
        """A non-loopback --control address without --control-token-file,
        a bad address, a bad token file: refused at start, naming why."""
        d = tempfile.mkdtemp(prefix="mxsim-api-")
        good = token_file(d, "t0k3n", 0o600)
        cases = [(["--control", "0.0.0.0:8025"], "--control 0.0.0.0: not a loopback address"),
                 (["--control", "198.18.0.1:8025"], "--control 198.18.0.1: not a loopback address"),
                 (["--control", "localhost:8025"], "expected IPv4:PORT or [IPv6]:PORT"),
                 (["--metrics", "localhost:9100"], "--metrics \"localhost:9100\": expected"),
                 (["--control-token-file", good], "--control-token-file needs --control"),
                 (["--control", "127.0.0.1:8025", "--control-token-file",
                   os.path.join(d, "none")], "No such file or directory")]
        for name, mode, text in (("world", 0o644, "t0k3n"), ("worldw", 0o602, "t0k3n"),
                                 ("empty", 0o600, "\n"), ("spaced", 0o600, "a b"),
                                 ("dir", None, None)):
            path = os.path.join(d, name)
            if mode is None:
                os.mkdir(path)
            else:
                with open(path, "w") as f:
                    f.write(text)
                os.chmod(path, mode)
            cases.append((["--control", "127.0.0.1:8025", "--control-token-file", path], {
                "world": "other users may read or write it (mode 0644); chmod o-rw",
                "worldw": "other users may read or write it (mode 0602)",
                "empty": "empty (expected one line: the bearer token)",
                "spaced": "byte 2: expected a bearer token",
                "dir": "not a regular file"}[name]))
        for args, want in cases:
            p = subprocess.run([self.mxsim_bin, "--port", str(free_port())] + args + ["-d", "5"],
                               capture_output=True, text=True, timeout=30)
            assert p.returncode == 2, (args, p.returncode, p.stderr)
            assert p.stderr.startswith("mxsim: "), p.stderr
            assert want in p.stderr, (want, p.stderr)
            assert p.stderr.count("\n") == 1, p.stderr

    def test_token_loopback(self):
        """--control-token-file on loopback: 401 with WWW-Authenticate:
        Bearer without the header or with a wrong token, and a refused
        PATCH changes nothing; 200 with the right one (the scheme in any
        case); /metrics on the control address needs it too."""
        d = tempfile.mkdtemp(prefix="mxsim-api-")
        tok = "Zm9vYmFy-%d_x~y+z/w==" % os.getpid()
        m = self.start(metrics=True, same=True, token=token_file(d, tok, 0o640))
        try:
            url = self.api + "/v1/providers/gmail/limits"
            for t in (None, "wrong", tok + "x", tok[:-1], ""):
                st, hdr, data = http("PATCH", url, {"connections_per_ip": 1}, token=t)
                assert st == 401, (t, st, data)
                assert hdr["WWW-Authenticate"].startswith("Bearer"), hdr
                assert json.loads(data)["error"].startswith("unauthorized"), data
                st, hdr, _ = http("GET", self.metrics, token=t)
                assert st == 401, (t, st)
            st, hdr, _ = http("GET", self.api + "/health")       # old path too
            assert st == 401, st
            st, body = http_json("GET", url, token=tok)
            assert (st, body["connections_per_ip"]) == (200, 20), body    # unchanged
            # the scheme's name is case-insensitive (RFC 9110 11.1)
            req = urllib.request.Request(self.api + "/v1/health")
            req.add_header("Authorization", "bEaReR " + tok)
            with OPENER.open(req, timeout=10) as r:
                assert r.status == 200
            st, body = http_json("PATCH", url, {"connections_per_ip": 1}, token=tok)
            assert (st, body["connections_per_ip"]) == (200, 1), body
            st, hdr, page = http("GET", self.metrics, token=tok)
            assert st == 200 and b"mxsim_connections_total" in page, st
        finally:
            rc, out, err = m.stop()
        assert rc == 0, err
        assert "control API: http://%s/ (and /metrics) (bearer token)" % self.api[7:] in err, err
        assert tok not in out + err

    def test_netns_remote(self):
        """From a network namespace: mxsim binds the host side of a veth
        (198.18.N.1, --control with a token, --metrics without), the
        client sends from 198.18.N.2: 401 without or with a wrong token
        and the refused PATCH changes nothing, 200 with the token; the
        metrics answer without one; no token, no such --control."""
        pid = os.getpid()
        ns, vh, vn = "mxapi-%d" % pid, "mxah%d" % (pid % 10 ** 6), "mxan%d" % (pid % 10 ** 6)
        net = 200 + pid % 50
        host_ip, ns_ip = "198.18.%d.1" % net, "198.18.%d.2" % net
        if subprocess.run(["ip", "netns", "add", ns], capture_output=True).returncode != 0:
            raise Skip("ip netns add is not permitted here")
        m = None
        try:
            sh("ip", "link", "add", vh, "type", "veth", "peer", "name", vn)
            sh("ip", "link", "set", vn, "netns", ns)
            sh("ip", "addr", "add", host_ip + "/30", "dev", vh)
            sh("ip", "link", "set", vh, "up")
            for cmd in (("ip", "addr", "add", ns_ip + "/30", "dev", vn),
                        ("ip", "link", "set", vn, "up"), ("ip", "link", "set", "lo", "up")):
                sh("ip", "netns", "exec", ns, *cmd)
            d = tempfile.mkdtemp(prefix="mxsim-api-")
            tok = "netns%d" % pid

            def remote(method, url, token="", body=""):
                r = subprocess.run(["ip", "netns", "exec", ns, sys.executable, "-c",
                                    NETNS_CLIENT, method, url, token, body],
                                   capture_output=True, text=True, timeout=30)
                assert r.returncode == 0, r.stderr
                return json.loads(r.stdout)

            # without a token the address is refused
            p = subprocess.run([self.mxsim_bin, "--port", str(free_port()), "--control",
                                "%s:%d" % (host_ip, free_port()), "-d", "5"],
                               capture_output=True, text=True, timeout=30)
            assert p.returncode == 2 and "not a loopback address" in p.stderr, p.stderr
            m = self.start(metrics=True, token=token_file(d, tok), host=host_ip)
            url = self.api + "/v1/providers/gmail/limits"
            for t in ("", "wrong"):
                r = remote("PATCH", url, t, '{"connections_per_ip": 1}')
                assert r["status"] == 401 and r["www"].startswith("Bearer"), r
            r = remote("GET", url, tok)
            assert r["status"] == 200, r
            assert json.loads(r["body"])["connections_per_ip"] == 20, r    # unchanged
            r = remote("PATCH", url, tok, '{"connections_per_ip": 7}')
            assert r["status"] == 200 and json.loads(r["body"])["connections_per_ip"] == 7, r
            r = remote("GET", self.api + "/v1", tok)
            assert r["status"] == 200 and json.loads(r["body"])["routes"], r
            # the dashboard's page (no data) loads without the token, as
            # a browser on another host loads it; its API calls need it
            r = remote("GET", self.api + "/")
            assert r["status"] == 200 and "<html" in r["body"].lower(), r
            r = remote("GET", self.api + "/v1/counters")
            assert r["status"] == 401, r
            r = remote("GET", self.metrics)
            assert r["status"] == 200 and "mxsim_connections_total" in r["body"], r
            # the host's own request to that address needs the token too
            st, hdr, data = http("GET", self.api + "/v1/health")
            assert st == 401, st
        finally:
            if m is not None:
                rc, out, err = m.stop()
                assert rc == 0, err
            subprocess.run(["ip", "link", "del", vh], capture_output=True)
            subprocess.run(["ip", "netns", "del", ns], capture_output=True)

    def test_floats(self):
        """Reals print as the decimals they are: an outage of 29.966
        simulated seconds shows remaining_s with at most 3 decimals, and
        every real of the JSON answers is written as Python's repr writes
        it (the shortest text of the same double)."""
        m = self.start("-t", "60")
        try:
            st, hdr, data = http("PUT", self.api + "/v1/providers/gmail/outage",
                                 {"duration_s": 29.966})
            assert st == 200, data
            assert re.search(rb'"remaining_s":\d+(\.\d{1,3})?}', data), data
            for path in ("/v1/providers", "/v1/clock", "/v1/counters", "/v1/postmaster",
                         "/v1/reputation/ip/gmail/127.0.49.1"):
                st, hdr, data = http("GET", self.api + path)
                assert st == 200, (path, data)
                check_reals(data)
            st, hdr, data = http("PATCH", self.api + "/v1/providers/gmail/limits",
                                 {"warmup": {"days": 3, "first_day": 9, "growth": 1.1}})
            assert st == 200 and b'"growth":1.1}' in data, data
        finally:
            rc, out, err = m.stop()
        assert rc == 0, err

    def test_openapi_contract(self):
        """Every operation of sim/ctl/openapi.json answers as documented
        (success, and each documented error but 503 provoked: statuses,
        media types, bodies against the schemas); the route table of
        GET /v1 is the document's; other methods answer 405 with the
        documented ones in Allow; old paths answer the same with
        Deprecation and Link; the banner's URL answers."""
        with open(OPENAPI, "rb") as f:
            src = f.read()
        doc = json.loads(src)
        c = Contract(doc)
        d = tempfile.mkdtemp(prefix="mxsim-api-")
        tok = "contract%d" % os.getpid()
        m = self.start(metrics=True, same=True, token=token_file(d, tok))
        try:
            st, hdr, served = http("GET", self.api + "/v1/openapi.json", token=tok)
            assert st == 200 and served == src, st
            st, index = http_json("GET", self.api + "/v1", token=tok)
            assert st == 200, index
            table = {(r["method"], r["path"]) for r in index["routes"]}
            documented = {(meth, path) for path, meth, _, _ in c.operations()}
            # /metrics and the dashboard's /ui/... are ctl_http's (the
            # --metrics handler, the web hook), not the API table's
            ctl_http_own = {(meth, path) for meth, path in documented
                            if path == "/metrics" or path.startswith("/ui/")}
            assert ("GET", "/metrics") in ctl_http_own, documented
            assert documented - table == ctl_http_own, documented - table
            assert table - documented == set(), table - documented
            self._contract_calls(c, tok)
            # a GET of limits has every documented key, no other
            st, lim = http_json("GET", self.api + "/v1/providers/gmail/limits", token=tok)
            assert key_tree(lim) == c.key_tree({"$ref": "#/components/schemas/Limits"}), lim
            self._contract_405(c, tok)
            self._contract_aliases(index, tok)
        finally:
            rc, out, err = m.stop()
        assert rc == 0, err
        banner = re.search(r"control API: (http://\S+/)", err)
        assert banner and banner.group(1) == self.api + "/", err

    @staticmethod
    def _fill(template, params, override=None):
        """The template with each {param} replaced by its example (or the
        first value of its enum), or override[param]."""
        def value(name):
            if override and name in override:
                return override[name]
            p = next(p for p in params if p["name"] == name)
            return str(p.get("example", p["schema"].get("enum", [None])[0]))
        return re.sub(r"\{(\w+)\}", lambda mm: value(mm.group(1)), template)

    def _contract_calls(self, c, tok):
        """Each operation: its success, then each documented error."""
        for tpl, meth, op, pparams in c.operations():
            params = pparams + op.get("parameters", [])
            path = self._fill(tpl, params)
            example = None
            if "requestBody" in op:
                example = op["requestBody"]["content"]["application/json"]["example"]
            ok = next(code for code in op["responses"] if code.startswith("2"))
            seen = set()

            def call(p, body, t=tok, where=tpl):
                st, hdr, data = http(meth, self.api + p, body, token=t)
                c.check("%s %s" % (meth, where), op, st, hdr, data)
                seen.add(str(st))
                return st

            assert call(path, example) == int(ok), (meth, path)
            if tpl == "/":
                # the dashboard's page holds no data: no token needed
                st, hdr, _ = http(meth, self.api + path, None, token=None)
                assert st == 200 and hdr["Content-Type"].startswith("text/html"), st
                continue
            assert call(path, example, t=None) == 401
            assert call(path, example, t=tok + "0") == 401
            errs = set(op["responses"]) - {ok, "401", "503"}
            names = [p["name"] for p in params if p["in"] == "path" and
                     p["name"] in ("name", "provider")]
            if "404" in errs and names:
                assert call(self._fill(tpl, params, {names[0]: "nosuch"}), example) == 404
            elif "404" in errs and tpl in ("/v1/postmaster", "/v1/senders"):
                assert call(path + "?provider=nosuch", None) == 404
            if "400" in errs and example is not None:
                assert call(path, {"bogus": 1}) == 400
                assert call(path, "{") == 400
            elif "400" in errs and tpl.startswith("/v1/reputation/"):
                assert call(self._fill(tpl, params, {"key": "not-an-address"}), None) == 400
            elif "400" in errs:
                assert call(path + "?size=1", None) == 400
            if "409" in errs:
                assert call(self._fill(tpl, params, {"provider": "sink"}), example) == 409
            if "413" in errs:
                assert call(path, "{" + " " * 70000 + "}") == 413
            if tpl == "/metrics":
                errs.discard("404")     # no /metrics: another start
            assert errs | {ok, "401"} <= seen, (meth, tpl, errs - seen)

    def _contract_405(self, c, tok):
        """A method a path does not have: 405, Allow = the documented ones."""
        for tpl, item in c.doc["paths"].items():
            params = item.get("parameters", []) + [
                p for op in item.values() if isinstance(op, dict)
                for p in op.get("parameters", []) if p.get("in") == "path"]
            allowed = {m.upper() for m in item if m in ("get", "put", "patch", "delete")}
            st, hdr, data = http("POST", self.api + self._fill(tpl, params), "{}", token=tok)
            assert st == 405, (tpl, st, data)
            assert set(hdr["Allow"].split(", ")) == allowed, (tpl, hdr["Allow"])
            assert json.loads(data)["error"].startswith("method POST not allowed"), data

    def _contract_aliases(self, index, tok):
        """The old paths: the same answer, Deprecation and Link headers."""
        checked = 0
        for r in index["routes"]:
            if "deprecated_alias" not in r or r["method"] not in ("GET", "PATCH"):
                continue
            fill = {"name": "gmail", "provider": "gmail", "kind": "ip", "key": "127.0.50.1"}
            new = re.sub(r"\{(\w+)\}", lambda mm: fill[mm.group(1)], r["path"])
            old = re.sub(r"\{(\w+)\}", lambda mm: fill[mm.group(1)], r["deprecated_alias"])
            assert new == "/v1" + old, (new, old)
            body = {} if r["method"] == "PATCH" else None
            st1, h1, d1 = http(r["method"], self.api + new, body, token=tok)
            st2, h2, d2 = http(r["method"], self.api + old, body, token=tok)
            assert st1 == st2 == 200, (old, st1, st2)
            assert "Deprecation" not in h1 and "Link" not in h1, h1
            assert h2["Deprecation"] == DEPRECATION, (old, h2)
            assert h2["Link"] == '<%s>; rel="successor-version"' % new, h2["Link"]
            if r["path"] not in ("/v1/clock", "/v1/counters"):
                assert json.loads(d1) == json.loads(d2), (old, d1, d2)
            else:
                assert json.loads(d1).keys() == json.loads(d2).keys(), old
            checked += 1
        assert checked >= 10, checked
        # an error at an old path is deprecated the same way
        st, hdr, data = http("POST", self.api + "/providers/gmail/limits", "{}", token=tok)
        assert st == 405 and hdr["Deprecation"] == DEPRECATION, (st, hdr)
        st, hdr, data = http("GET", self.api + "/providers/nosuch", token=tok)
        assert st == 404 and hdr["Link"] == '</v1/providers/nosuch>; rel="successor-version"', hdr
        st, hdr, data = http("GET", self.api + "/openapi.json", token=tok)
        assert st == 404, st            # new routes have no old path


if __name__ == "__main__":
    sys.exit(run_suite("control", Suite, width=40))
