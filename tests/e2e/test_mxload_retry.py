#!/usr/bin/env python3
"""End-to-end tests of mxload --retry against a real mxsim on loopback:
each message that gets a 4xx is retried on its schedule until it is
delivered, bounced or expired, and mxload's per-message outcomes agree
with mxsim's event log.

The scenario serves a copy of the bundled gmail profile whose per-IP
limit is only {hour: 20} on 127.61.0.0/28, so that a burst far above
the limit must wait for the hour window to slide.  No assertion depends
on timing: counts follow from the limit and from the schedule's bounds.

Usage: test_mxload_retry.py --build BUILD_DIR [TEST_NAME ...]
"""
import json
import math
import os
import shutil
import subprocess
import sys
import tempfile

import yaml

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from mxsim_proc import Mxsim, free_port, read_events, run_suite  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PROFILES = os.path.join(ROOT, "profiles")

MX = "127.61.0.5"
MX_RANGE = "127.61.0.0/28"
HOUR_LIMIT = 20        # messages per client IP per simulated hour


class Suite:
    def __init__(self, build):
        self.mxsim_bin = os.path.join(build, "sim", "mxsim")
        self.mxload_bin = os.path.join(build, "harness", "mxload")
        self.dir = tempfile.mkdtemp(prefix="mxload-retry-")
        self.scenario = self.write_scenario()

    def write_scenario(self):
        """The bundled scenario's senders, one gmail server whose only
        per-IP limit is HOUR_LIMIT messages an hour."""
        with open(os.path.join(PROFILES, "gmail.yaml")) as f:
            gmail = yaml.safe_load(f)
        gmail["limits"]["per_ip"]["messages"] = {"hour": HOUR_LIMIT}
        with open(os.path.join(self.dir, "gmail-hour.yaml"), "w") as f:
            yaml.safe_dump(gmail, f, sort_keys=False, width=1000)
        with open(os.path.join(PROFILES, "default.yaml")) as f:
            sc = yaml.safe_load(f)
        sc["servers"] = [{"profile": "gmail-hour", "addresses": [MX_RANGE]}]
        path = os.path.join(self.dir, "scenario.yaml")
        with open(path, "w") as f:
            yaml.safe_dump(sc, f, sort_keys=False)
        return path

    def close(self):
        shutil.rmtree(self.dir, ignore_errors=True)

    def start(self, time_scale):
        self.port = free_port()
        return Mxsim(self.mxsim_bin, ["-c", self.scenario, "-q",
                                      "-t", str(time_scale)], self.port)

    def run(self, name, time_scale, source, sender, n, *args):
        """mxsim at time_scale, then mxload -n n from source with --json;
        returns (mxload's JSON, its stdout, the end-of-DATA events of
        source as (code, enhanced) pairs)."""
        m = self.start(time_scale)
        out = os.path.join(self.dir, name + ".json")
        try:
            p = subprocess.run([self.mxload_bin, "-q",
                                "-t", "gmail=%s:%d@gmail.com" % (MX, self.port),
                                "-s", source, "-f", sender, "-n", str(n),
                                "-c", "5", "--json", out] + list(args),
                               capture_output=True, text=True, timeout=600)
        finally:
            rc, _, err = m.stop()
        assert rc == 0, err
        assert p.returncode == 0, (p.returncode, p.stderr)
        with open(out) as f:
            j = json.load(f)
        eod = [(e["code"], e["enhanced"]) for e in read_events(m.events)
               if e["stage"] == "eod" and e["client"] == source]
        return j, p.stdout, eod

    @staticmethod
    def final(j):
        r = j["retry"]
        return {k: r[k] for k in ("delivered", "bounced", "expired",
                                  "deferred", "aborted")}

    # -- tests --------------------------------------------------------------

    def test_burst_drains(self):
        """A clean burst of twice the hourly limit at -t 360 (an hour is
        10 s): every message delivered after deferrals, none bounced.  The
        schedule (attempts at about 0, 5, 10, 20 s, the last one two
        windows after the burst) keeps the deferrals (at most 3 x 20)
        under the 100 a day after which today's gmail profile blocks the
        IP, so the result does not depend on that calibration."""
        n = 2 * HOUR_LIMIT
        j, out, eod = self.run("burst", 360, "127.0.61.1", "auth.example", n,
                               "--retry", "min=5s,max=10s,lifetime=10m",
                               "--retry-until", "500")
        assert self.final(j) == {"delivered": n, "bounced": 0, "expired": 0,
                                 "deferred": 0, "aborted": 0}, (j["retry"], out)
        r = j["retry"]
        assert n < r["attempts"] <= n + 3 * (n - HOUR_LIMIT), r
        assert sum(r["attempts_hist"]) == n, r
        assert "delivered %d bounced 0" % n in out, out
        # the wire: mxsim accepted each message once and deferred the rest
        assert eod.count((250, "2.0.0")) == n, eod
        assert len(eod) == r["attempts"], (len(eod), r["attempts"])
        assert set(eod) == {(250, "2.0.0"), (421, "4.7.28")}, set(eod)

    def test_unauthenticated_bounces(self):
        """An unauthenticated sender at Gmail: 4.7.26 deferrals, then every
        message bounced with 5.7.26, none delivered."""
        n = 10
        j, out, eod = self.run("unauth", 1, "127.0.61.2", "unauth.example", n,
                               "--retry", "200ms,lifetime=10m",
                               "--retry-until", "500")
        assert self.final(j) == {"delivered": 0, "bounced": n, "expired": 0,
                                 "deferred": 0, "aborted": 0}, (j["retry"], out)
        by = j["retry"]["bounced_by"]
        assert [(b["stage"], b["code"], b["enhanced"], b["count"]) for b in by] == \
            [("eod", 550, "5.7.26", n)], by
        rows = {(r["code"], r["enhanced"]) for r in j["rows"]}
        assert (421, "4.7.26") in rows, rows
        assert eod.count((550, "5.7.26")) == n, eod
        assert eod.count((421, "4.7.26")) == j["retry"]["attempts"] - n, eod
        # deferrals come first, bounces after
        first_bounce = eod.index((550, "5.7.26"))
        assert all(c == (421, "4.7.26") for c in eod[:first_bounce]), eod
        assert first_bounce > 0, eod

    def test_lifetime_expires(self):
        """A lifetime shorter than the deferral (the hour window at -t 1):
        the messages over the limit expire, each within its bounded
        number of attempts; the rest are delivered."""
        n, delay, lifetime = HOUR_LIMIT + 5, 0.5, 2.0
        j, out, eod = self.run("expire", 1, "127.0.61.3", "auth.example", n,
                               "--retry", "500ms,lifetime=2s")
        assert self.final(j) == {"delivered": HOUR_LIMIT, "bounced": 0,
                                 "expired": 5, "deferred": 0, "aborted": 0}, \
            (j["retry"], out)
        r = j["retry"]
        # attempt k starts at least (k-1) delays after the first, and a
        # failure at an age >= lifetime expires: at most this many
        most = math.ceil(lifetime / delay) + 1
        assert 2 <= r["attempts_max"] <= most, r
        assert [(e["code"], e["enhanced"], e["count"]) for e in r["expired_after"]] == \
            [(421, "4.7.28", 5)], r["expired_after"]
        assert "expired 5" in out and "421  4.7.28" in out, out
        assert eod.count((250, "2.0.0")) == HOUR_LIMIT, eod
        assert eod.count((421, "4.7.28")) == r["attempts"] - HOUR_LIMIT, eod

    def test_retry_until_leaves_deferred(self):
        """--retry-until before the schedule gives up: the messages over the
        limit end "deferred" (still queued), not bounced."""
        n = HOUR_LIMIT + 5
        j, out, eod = self.run("until", 1, "127.0.61.4", "auth.example", n,
                               "--retry", "500ms", "--retry-until", "2")
        assert self.final(j) == {"delivered": HOUR_LIMIT, "bounced": 0,
                                 "expired": 0, "deferred": 5, "aborted": 0}, \
            (j["retry"], out)
        assert "not drained" in out, out
        assert eod.count((421, "4.7.28")) == j["retry"]["attempts"] - HOUR_LIMIT, eod

    def test_usage(self):
        """Schedule errors are usage errors (exit 2) naming the option."""
        for args in (["--retry", "5s,x"], ["--retry", "min=5s"],
                     ["--retry", "postfix/0"], ["--retry-until", "5"],
                     ["-d", "5", "--retry", "5s"]):
            p = subprocess.run([self.mxload_bin, "-t", "127.0.0.1:1"] + args,
                               capture_output=True, text=True, timeout=60)
            assert p.returncode == 2, (args, p.returncode, p.stderr)
            assert p.stderr.startswith("mxload: --retry"), (args, p.stderr)


if __name__ == "__main__":
    sys.exit(run_suite("mxload retry", Suite))
