#!/usr/bin/env python3
"""End-to-end tests of the control API and /metrics: a real mxsim on
loopback with --control/--metrics, changed over HTTP (urllib) while SMTP
clients (smtplib, raw sockets, mxload) see the effect.

Usage: test_control.py --build BUILD_DIR [TEST_NAME ...]
Prints one line per test and ends with "control: N passed, N failed".
"""
import collections
import json
import os
import re
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from mxsim_proc import Client, Mxsim, enhanced, free_port, free_ports, read_events, run_suite  # noqa: E402

GMAIL_MX = "127.1.0.5"
MS_MX = "127.2.0.5"
GENERIC_MX = "127.4.0.5"
SINK_MX = "127.0.0.1"

# urllib must not send loopback requests to a proxy from the environment
OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def http(method, url, body=None):
    """One request; returns (status, headers, body bytes)."""
    if body is not None and not isinstance(body, (bytes, str)):
        body = json.dumps(body)
    if isinstance(body, str):
        body = body.encode()
    req = urllib.request.Request(url, data=body, method=method)
    if body is not None:
        req.add_header("Content-Type", "application/json")
    try:
        with OPENER.open(req, timeout=10) as r:
            return r.status, r.headers, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.headers, e.read()


def http_json(method, url, body=None):
    status, _, data = http(method, url, body)
    return status, json.loads(data)


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


class Suite:
    def __init__(self, build):
        self.mxsim_bin = os.path.join(build, "sim", "mxsim")
        self.mxload_bin = os.path.join(build, "harness", "mxload")

    def start(self, *args, metrics=None, same=False):
        """mxsim with --control on its own port (and --metrics if asked)."""
        self.port, self.cport, mport = free_ports(3)
        self.api = "http://127.0.0.1:%d" % self.cport
        extra = ["--control", "127.0.0.1:%d" % self.cport]
        if same:
            extra += ["--metrics", "127.0.0.1:%d" % self.cport]
            self.metrics = self.api + "/metrics"
        elif metrics:
            extra += ["--metrics", "127.0.0.1:%d" % mport]
            self.metrics = "http://127.0.0.1:%d/metrics" % mport
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
            st, body = http_json("PATCH", self.api + "/providers/gmail/limits",
                                 {"per_ip": {"messages": {"minute": 3}}})
            assert st == 200, body
            assert body["per_ip"]["messages"]["minute"] == 3, body
            assert body["per_ip"]["messages"]["hour"] == 3000, body   # untouched
            st, prov = http_json("GET", self.api + "/providers/gmail")
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
            st, ms = http_json("GET", self.api + "/providers/microsoft/limits")
            assert st == 200 and ms["per_ip"]["messages"]["minute"] != 3, ms
        finally:
            rc, out, err = m.stop()
        assert rc == 0, err

    def test_limits_every_key(self):
        """Every limits key through PATCH and GET; {"max_hops": 3} turns a 4-hop message into 554 5.4.6."""
        m = self.start()
        try:
            url = self.api + "/providers/gmail/limits"
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
            st, prov = http_json("GET", self.api + "/providers/gmail")
            assert prov["limits"] == nest(want), prov
        finally:
            rc, out, err = m.stop()
        assert rc == 0, err

    def test_outage(self):
        """PUT outage: Gmail's 421 4.3.0 at greeting; DELETE: 220 again."""
        m = self.start()
        try:
            assert greeting(GMAIL_MX, self.port, "127.0.41.1").startswith(b"220 "), "before"
            st, body = http_json("PUT", self.api + "/providers/gmail/outage", {"duration_s": 300})
            assert st == 200 and body["active"] is True, body
            assert 299 <= body["remaining_s"] <= 300, body
            line = greeting(GMAIL_MX, self.port, "127.0.41.1")
            assert re.match(rb"421[ -]4\.3\.0 ", line), line
            assert greeting(MS_MX, self.port, "127.0.41.1").startswith(b"220 ")
            st, prov = http_json("GET", self.api + "/providers/gmail")
            assert prov["outage"]["active"] is True, prov
            st, body = http_json("DELETE", self.api + "/providers/gmail/outage")
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
            st, body = http_json("GET", self.api + "/reputation/ip/gmail/127.0.42.1")
            assert st == 200 and body["score"] == 80, body
            st, body = http_json("PUT", self.api + "/reputation/ip/gmail/127.0.42.1", {"score": 5})
            assert st == 200 and abs(body["score"] - 5) < 0.01, body
            c = Client(GMAIL_MX, self.port, "127.0.42.1")
            stage, code, text = c.message("a@auth.example", "x@gmail.com")
            assert (stage, code, enhanced(text)) == ("eod", 550, "5.7.1"), (stage, code, text)
            assert b"reputation" in text, text
            c.close()
            c = Client(GMAIL_MX, self.port, "127.0.42.2")
            assert c.message("a@auth.example", "x@gmail.com")[:2] == ("eod", 250)
            c.close()
            st, body = http_json("PUT", self.api + "/reputation/domain/gmail/Auth.Example",
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
            st, _ = http_json("PATCH", self.api + "/providers/gmail/limits",
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
                st, cnt = http_json("GET", self.api + "/counters")
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
            st, cnt = http_json("GET", self.api + "/counters")
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
            url = self.api + "/providers/gmail/limits"
            st, body = http_json("PATCH", url, '{"per_ip": ')
            assert st == 400 and body["error"].startswith("invalid JSON at line 1"), body
            st, body = http_json("PATCH", url, {"per_ip": {"mesages": {"minute": 1}}})
            assert st == 400, body
            assert body["error"] == ("limits.per_ip.mesages: unknown key "
                                     "(expected messages, recipients)"), body
            st, body = http_json("PATCH", url, {"connections_per_ip": "5"})
            assert (st, body["error"]) == (400, "limits.connections_per_ip: expected "
                                                "an integer 0..4294967295"), body
            st, body = http_json("GET", self.api + "/providers/gmail/limits")
            assert body["connections_per_ip"] == 20, body     # nothing applied
            st, body = http_json("PUT", self.api + "/providers/gmail/outage", {"duration_s": -1})
            assert st == 400, body
            st, body = http_json("GET", self.api + "/providers/hotmail")
            assert st == 404 and "hotmail" in body["error"], body
            st, body = http_json("GET", self.api + "/metrics")
            assert st == 404, body          # no --metrics here
            st, hdr, data = http("POST", url, "{}")
            assert st == 405 and hdr["Allow"] == "GET, PATCH", (st, hdr)
            st, hdr, data = http("PATCH", url, "{" + " " * 70000 + "}")
            assert st == 413, (st, data)
            st, body = http_json("GET", self.api + "/health")
            assert (st, body) == (200, {"status": "ok"})
            st, body = http_json("GET", self.api + "/clock")
            assert st == 200 and body["time_scale"] == 1 and body["sim"].endswith("Z"), body
        finally:
            rc, out, err = m.stop()
        assert rc == 0, err

    def test_refuse_non_loopback(self):
        """A non-loopback --control or --metrics address: refused at start."""
        for opt, addr in (("--control", "0.0.0.0:8025"), ("--control", "198.18.0.1:8025"),
                          ("--metrics", "[::]:9100"), ("--control", "localhost:8025")):
            p = subprocess.run([self.mxsim_bin, "--port", str(free_port()), opt, addr,
                                "-d", "5"], capture_output=True, text=True, timeout=30)
            assert p.returncode == 2, (addr, p.returncode, p.stderr)
            assert p.stderr.startswith("mxsim: %s " % opt), p.stderr
            if "localhost" in addr:
                assert "expected IPv4:PORT or [IPv6]:PORT" in p.stderr, p.stderr
            else:
                assert "not a loopback address" in p.stderr, p.stderr


if __name__ == "__main__":
    sys.exit(run_suite("control", Suite, width=40))
