#!/usr/bin/env python3
"""End-to-end tests of the Postmaster view (issue 9): a real mxsim with a
two-provider scenario (seed recipients, a complaining sender, unknown
users, a simulated day every two real seconds) under mxload, then
GET /postmaster compared with the figures the event log implies, exactly:
every figure of every (provider, domain or IP, day) row, the filters, the
seed-placement table of the exit summary, and mxreport's Postmaster charts
and seed table.

The log is folded by reports/rpt_pm.py (the report's own code); the fold
itself is checked against plain sums over the log's lines.

Usage: test_postmaster.py --build BUILD_DIR [TEST_NAME ...]
"""
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(ROOT, "reports"))
from mxsim_proc import Mxsim, read_events, run_suite  # noqa: E402
from test_control import free_ports, http, http_json  # noqa: E402
import rpt_model  # noqa: E402
import rpt_pm  # noqa: E402

SCENARIO = """\
seed: 11
time_scale: 43200       # a simulated day every 2 real seconds
start: "2026-03-01T00:00:00Z"
servers:
  - profile: gmail
    addresses: [127.1.0.0/24]
  - profile: yahoo
    addresses: [127.3.0.0/24]
senders:
  domains:
    clean.example: {spf: pass, dkim: pass, dmarc: pass}
    noisy.example: {spf: pass, dkim: fail, dmarc: fail,
                    complaint_rate: 0.02}
recipients:
  unknown: ["nobody*@*"]
  seeds: ["user1*@*"]
"""

# (target, sources, sender domains, extra mxload options, messages)
LOADS = (
    ("127.1.0.1/31", "127.0.30.0/30", "clean.example", ["--starttls"], 600),
    ("127.1.0.1/31", "127.0.31.0/30", "noisy.example", [], 600),
    ("127.3.0.1/31", "127.0.30.0/30", "clean.example,noisy.example",
     ["--starttls"], 400),
    ("127.1.0.1/31", "127.0.32.0/31", "clean.example",
     ["--rcpt", "nobody1"], 40),
)


def strip(api):
    """strip - GET /postmaster's providers without "bands", errors sorted
    (mxsim lists a row's errors in the order they first came)."""
    out = {}
    for prov, p in api["providers"].items():
        q = {"domains": p["domains"], "ips": p["ips"]}
        for kind in ("domains", "ips"):
            for days in q[kind].values():
                for d in days:
                    d["errors"] = sorted(d["errors"], key=lambda e: (
                        e["code"], e["enhanced"]))
        out[prov] = q
    return out


class Suite:
    def __init__(self, build):
        self.mxsim = os.path.join(build, "sim", "mxsim")
        self.mxload = os.path.join(build, "harness", "mxload")
        self.tmp = tempfile.mkdtemp(prefix="mxsim-pm-")
        self.scen = os.path.join(self.tmp, "scenario.yaml")
        with open(self.scen, "w") as f:
            f.write(SCENARIO)
        self.ran = None
        self.dirs = [self.tmp]

    def close(self):
        """close - remove the scenario, the log and the report."""
        for d in self.dirs:
            shutil.rmtree(d, ignore_errors=True)

    def run(self):
        """run - mxsim under the loads once; (api replies, events, stdout)."""
        if self.ran is not None:
            return self.ran
        port, cport = free_ports(2)
        api = "http://127.0.0.1:%d" % cport
        m = Mxsim(self.mxsim, ["-c", self.scen, "--control",
                               "127.0.0.1:%d" % cport, "-q", "--workers",
                               "2"], port)
        self.dirs.append(m.dir)
        got = {}
        try:
            for target, src, doms, extra, n in LOADS:
                p = subprocess.run(
                    [self.mxload, "-t", "%s:%d@gmail.com" % (target, port),
                     "-s", src, "-c", "4", "-n", str(n), "-r", "300",
                     "-R", "3", "-f", doms, "-q"] + extra,
                    capture_output=True, text=True, timeout=120)
                assert p.returncode in (0, 1), p.stderr
            for q in ("", "?provider=gmail&domain=noisy.example",
                      "?domain=noisy%2Eexample&provider=gmail",
                      "?ip=127.0.30.1", "?day=2026-03-02",
                      "?provider=yahoo"):
                st, body = http_json("GET", api + "/v1/postmaster" + q)
                assert st == 200, body
                got[q] = body
            st, body = http_json("GET", api + "/v1/counters")
            got["counters"] = body
            for q in ("?size=1", "?ip=1.2.3", "?day=2026-02-30x",
                      "?provider=aol"):
                st, _, data = http("GET", api + "/v1/postmaster" + q)
                got["bad" + q] = (st, data)
        finally:
            rc, out, err = m.stop()
        assert rc == 0, err
        assert " 0 dropped" in err or "dropped" not in err, err
        self.ran = (got, read_events(m.events), out, m.events)
        return self.ran

    def fold(self, events):
        """fold - rpt_pm over the log with the scenario's profiles."""
        profiles, _ = rpt_model.load_profiles(
            os.path.join(ROOT, "profiles"), self.scen)
        pm = rpt_pm.Postmaster(profiles)
        for ev in events:
            pm.event(ev)
        return pm

    def test_api_equals_log(self):
        """Every figure of every row of GET /postmaster equals the log's."""
        got, events, _, _ = self.run()
        full = got[""]
        assert full["overflow"] == 0 and full["rows"] > 0, full
        want = self.fold(events).json()["providers"]
        have = strip(full)
        assert sorted(have) == ["gmail", "yahoo"], sorted(have)
        for prov in want:
            for kind in ("domains", "ips"):
                assert sorted(have[prov][kind]) == sorted(want[prov][kind]), \
                    (prov, kind)
                for key, days in want[prov][kind].items():
                    assert have[prov][kind][key] == days, (
                        prov, kind, key, have[prov][kind][key], days)
        assert have == want
        # several simulated days, some of each figure
        days = {d["day"] for p in have.values()
                for ds in p["domains"].values() for d in ds}
        assert len(days) >= 2, days
        rows = [d for p in have.values() for ds in p["domains"].values()
                for d in ds]
        assert sum(d["complaints"] for d in rows) > 0
        assert sum(d["seeds"]["inbox"] + d["seeds"]["spam"] for d in rows) > 0
        assert any(0 < d["tls"] < d["eod"] for d in rows) or \
            {d["tls"] == d["eod"] for d in rows} == {True, False}
        assert any(e["code"] == 550 for d in rows for e in d["errors"])
        assert any(d["band"] is not None for d in rows)
        assert full["providers"]["gmail"]["bands"] == {
            "bad_below": 15.0, "low_below": 40.0, "medium_below": 70.0}

    def test_fold_equals_sums(self):
        """The fold equals plain sums over the log's lines, and the
        counters of /counters."""
        got, events, _, _ = self.run()
        pm = self.fold(events)
        for prov in ("gmail", "yahoo"):
            eod = [e for e in events if e["provider"] == prov and
                   e["stage"] == "eod"]
            acc = [e for e in eod if 200 <= e["code"] < 300]
            rows = [r for (k, p, _, _), r in pm.rows.items()
                    if k == "ip" and p == prov]
            assert sum(r["messages"] for r in rows) == len(acc)
            assert sum(r["recipients"] for r in rows) == sum(
                e["nrcpts"] for e in acc)
            assert sum(r["complaints"] for r in rows) == sum(
                e["complaints"] for e in acc)
            assert sum(r["eod"] for r in rows) == len(eod)
            assert sum(r["tls"] for r in rows) == sum(
                e["tls"] is True for e in eod)
            assert sum(r["seeds"]["spam"] for r in rows) == sum(
                e["seeds"] for e in acc if e["placement"] == "spam")
            assert sum(sum(r["errors"].values()) for r in rows) == sum(
                1 for e in events if e["provider"] == prov and
                e["code"] >= 400)
            c = got["counters"]["providers"][prov]
            assert c["messages"] == len(acc), (c, len(acc))

    def test_filters(self):
        """provider, domain, ip and day filters give subsets of the whole."""
        got, _, _, _ = self.run()
        full = strip(got[""])
        sub = strip(got["?provider=gmail&domain=noisy.example"])
        assert sub == {"gmail": {"domains": {
            "noisy.example": full["gmail"]["domains"]["noisy.example"]},
            "ips": {}}}, sub
        # percent-encoded, in another order: the same
        assert strip(got["?domain=noisy%2Eexample&provider=gmail"]) == sub
        sub = strip(got["?ip=127.0.30.1"])
        assert set(sub) == {"gmail", "yahoo"}
        for prov, p in sub.items():
            assert p["domains"] == {} and list(p["ips"]) == ["127.0.30.1"]
            assert p["ips"] == {"127.0.30.1":
                                full[prov]["ips"]["127.0.30.1"]}
        sub = strip(got["?day=2026-03-02"])
        for prov, p in full.items():
            for kind in ("domains", "ips"):
                for key, days in p[kind].items():
                    d2 = [d for d in days if d["day"] == "2026-03-02"]
                    assert sub.get(prov, {}).get(kind, {}).get(key, []) == \
                        d2, (prov, kind, key)
        assert strip(got["?provider=yahoo"]) == {"yahoo": full["yahoo"]}
        for q, st in (("?size=1", 400), ("?ip=1.2.3", 400),
                      ("?day=2026-02-30x", 400), ("?provider=aol", 404)):
            assert got["bad" + q][0] == st, (q, got["bad" + q])
            assert json.loads(got["bad" + q][1])["error"], q

    def test_seed_table(self):
        """The exit summary's seed-placement table: the log's seed counts."""
        _, events, out, _ = self.run()
        pm = self.fold(events)
        table = pm.seed_table()
        assert table, "no seeds"
        assert "seed placement (seed recipients of accepted messages):" in out
        for prov, dom, n, t in table:
            line = "  %-12s %-28s %8d %7.1f%% %7.1f%% %10.1f%%" % (
                prov, dom, n, 100.0 * t["inbox"] / n, 100.0 * t["spam"] / n,
                100.0 * t["promotions"] / n)
            assert line in out, (line, out)
            assert n == sum(e["seeds"] for e in events if
                            e["provider"] == prov and
                            e["sender_domain"] == dom and
                            e["stage"] == "eod" and e["placement"])

    def test_mxreport(self):
        """mxreport draws pm_<provider> and lists the seed table."""
        _, _, _, log = self.run()
        outdir = os.path.join(self.tmp, "report")
        p = subprocess.run(["/usr/bin/python3",
                            os.path.join(ROOT, "reports", "mxreport"), log,
                            "-o", outdir, "--scenario", self.scen],
                           capture_output=True, text=True, timeout=300)
        assert p.returncode == 0, p.stderr
        for prov in ("gmail", "yahoo"):
            for ext in ("png", "svg", "gp"):
                f = os.path.join(outdir, ("charts/pm_%s.gp" % prov) if
                                 ext == "gp" else "pm_%s.%s" % (prov, ext))
                assert os.path.getsize(f) > 0, f
        with open(os.path.join(outdir, "index.html")) as f:
            page = f.read()
        assert "<h2>Postmaster view</h2>" in page
        assert re.search(r"<td>gmail</td><td>noisy\.example</td>"
                         r"<td class=\"n\">\d+</td>", page), page[-3000:]
        with open(os.path.join(outdir, "data", "pm_gmail_daily.dat")) as f:
            lines = [ln for ln in f if not ln.startswith("#")]
        assert len(lines) >= 2, lines


if __name__ == "__main__":
    sys.exit(run_suite("postmaster", Suite, width=30))
