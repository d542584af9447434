#!/usr/bin/env python3
"""The provider invariants of harness/scenarios/inv-*.yaml, checked quickly
with mxload --retry (an MTA's retry behaviour without an MTA) against the
bundled profiles, unchanged, through the wire:

- burst: a clean, authenticated sender bursting far above each bundled
  profile's limit (Gmail, Yahoo, iCloud, generic per-IP per minute;
  Microsoft's first warm-up day) gets every message delivered, no 5xx
  refusal, never more accepted in an aligned simulated window than the
  limit (plus, where the limit answers at MAIL FROM, the sessions in
  flight when it filled), and drains within a bound derived from the
  limit;
- unauth: an unauthenticated sender at Gmail gets 4.7.26 deferrals, then
  every message bounces with 5.7.26;
- badlist: unknown users and spam traps cost a Gmail sender its
  reputation: 4.7.0 deferrals once the score is below 40, 5.7.1 blocks
  below 15, at the counts profiles/gmail.yaml documents;
- recover: a sender blocked at 0 is deferred again after 15 clean
  simulated hours and accepted after 40.

Each count follows from the profile's numbers and the time scale (margins
for a slow machine are stated where a phase starts); nothing depends on
how fast the machine is.  Each burst test prints delivered, bounced and
the time to drain.

Usage: test_invariants_mxload.py --build BUILD_DIR [TEST_NAME ...]
"""
import json
import math
import os
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from mxsim_proc import Mxsim, free_port, read_events, run_suite  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PROFILES = os.path.join(ROOT, "profiles")
MIN_MS, DAY_MS = 60000, 86400000

# provider: (MX address of the bundled default.yaml, recipient domain,
# time scale, messages, limit, window in ms).  The limits are the bundled
# profiles' (gmail/icloud per_ip minute 100, yahoo 200, generic 60,
# microsoft warmup.first_day 1000); the time scales keep them well within
# reach of mxload (at most about 35 messages a real second).
BURSTS = {
    "gmail": ("127.1.0.5", "gmail.com", 20, 500, 100, MIN_MS),
    "yahoo": ("127.3.0.5", "yahoo.com", 10, 600, 200, MIN_MS),
    "icloud": ("127.5.0.5", "icloud.com", 20, 500, 100, MIN_MS),
    "generic": ("127.4.0.5", "example.com", 20, 300, 60, MIN_MS),
    "microsoft": ("127.2.0.5", "outlook.com", 8640, 1200, 1000, DAY_MS),
}
RETRY = "min=1s,max=2s,lifetime=10m"      # real time
RETRY_MAX_S = 2
CONC = 10                                 # mxload's connections


def scenario(dirpath, profiles, start=None):
    """default.yaml of PROFILES, its profiles found there; START (ISO) for
    a simulated clock starting at a day's beginning."""
    with open(os.path.join(profiles, "default.yaml")) as f:
        text = f.read()
    if start:
        text = "start: \"%s\"\n" % start + text
    path = os.path.join(dirpath, "scenario.yaml")
    with open(path, "w") as f:
        f.write(text)
    for name in os.listdir(profiles):
        if name.endswith(".yaml") and name != "default.yaml":
            dst = os.path.join(dirpath, name)
            if not os.path.exists(dst):
                os.symlink(os.path.join(profiles, name), dst)
    return path


def mxload(binary, port, mx, domain, source, sender, n, out, *args):
    """mxload --retry with --json OUT; returns its JSON."""
    tag = [] if "--rcpt" in args else ["--tag-rcpt"]
    p = subprocess.run([binary, "-q", "-t", "%s:%d@%s" % (mx, port, domain),
                        "-s", source, "-f", sender, "-n", str(n), "-c", str(CONC),
                        "--retry", RETRY, "--json", out] + tag + list(args),
                       capture_output=True, text=True, timeout=900)
    assert p.returncode == 0, (p.returncode, p.stderr)
    with open(out) as f:
        return json.load(f)


def outcomes(j):
    r = j["retry"]
    return {k: r[k] for k in ("delivered", "bounced", "expired", "deferred", "aborted")}


def burst(mxsim_bin, mxload_bin, profiles, provider, source, workdir):
    """Run one provider's burst; returns (mxload JSON, client's events, scale)."""
    mx, domain, scale, n, _limit, win = BURSTS[provider]
    start = "2026-01-05T00:00:00Z" if win == DAY_MS else None
    sc = scenario(workdir, profiles, start)
    port = free_port()
    m = Mxsim(mxsim_bin, ["-c", sc, "-q", "-t", str(scale)], port)
    try:
        j = mxload(mxload_bin, port, mx, domain, source, "auth.example", n,
                   os.path.join(workdir, provider + ".json"))
    finally:
        rc, _, err = m.stop()
    assert rc == 0, err
    evs = [e for e in read_events(m.events) if e["client"] == source]
    return j, evs, scale


def accepted_ms(evs):
    return [e["sim_ms"] for e in evs if e["stage"] == "eod" and e["code"] == 250]


def refusals_5xx(evs):
    """5xx replies that refuse something (protocol.* replies to commands
    pipelined after a refused MAIL left out)."""
    return [e for e in evs if e["code"] >= 500 and
            not (e["reason"] or "").startswith("protocol.")]


class Suite:
    def __init__(self, build):
        self.mxsim_bin = os.path.join(build, "sim", "mxsim")
        self.mxload_bin = os.path.join(build, "harness", "mxload")
        self.tmp = tempfile.TemporaryDirectory(prefix="inv-mxload-")

    def close(self):
        self.tmp.cleanup()

    def _burst(self, provider, source):
        _mx, _d, scale, n, limit, win = BURSTS[provider]
        work = os.path.join(self.tmp.name, provider)
        os.mkdir(work)
        j, evs, _ = burst(self.mxsim_bin, self.mxload_bin, PROFILES, provider,
                          source, work)
        got = outcomes(j)
        assert got == {"delivered": n, "bounced": 0, "expired": 0, "deferred": 0,
                       "aborted": 0}, (provider, j["retry"])
        assert not refusals_5xx(evs), refusals_5xx(evs)[:3]
        acc = accepted_ms(evs)
        assert len(acc) == n, (len(acc), n)
        per = {}
        for t in acc:
            per[t // win] = per.get(t // win, 0) + 1
        # Microsoft: the day after a good day allows first_day x 1.5.
        # Gmail refuses at end of DATA, where a message is counted; the
        # others at MAIL FROM, so the sessions that passed MAIL when the
        # window filled still complete: at most the other 9 connections
        most = limit if win != DAY_MS else int(limit * 1.5)
        if provider != "gmail":
            most += CONC - 1
        assert max(per.values()) <= most, sorted(per.items())
        # n messages need ceil(n/limit) aligned windows: the span from the
        # first acceptance to the last is more than (that - 2) windows; the
        # limit is kept busy, so it ends within (that + 2) windows plus the
        # longest retry delay
        need = math.ceil(n / limit)
        span = max(acc) - min(acc)
        assert span > (need - 2) * win, (span, need, win)
        assert span <= (need + 2) * win + RETRY_MAX_S * scale * 1000, (span, need, win)
        deferred = sum(1 for e in evs if 400 <= e["code"] < 500)
        print("    %s: %d delivered, %d bounced, %d deferrals, drained in %.1f s sim "
              "(%.1f s real), busiest window %d" % (
                  provider, got["delivered"], got["bounced"], deferred, span / 1000.0,
                  span / 1000.0 / scale, max(per.values())), flush=True)

    def test_burst_gmail(self):
        self._burst("gmail", "127.0.91.1")

    def test_burst_yahoo(self):
        self._burst("yahoo", "127.0.91.2")

    def test_burst_icloud(self):
        self._burst("icloud", "127.0.91.3")

    def test_burst_generic(self):
        self._burst("generic", "127.0.91.4")

    def test_burst_microsoft(self):
        self._burst("microsoft", "127.0.91.5")

    def _gmail(self, scale, sub):
        work = os.path.join(self.tmp.name, sub)
        os.mkdir(work)
        sc = scenario(work, PROFILES)
        port = free_port()
        return Mxsim(self.mxsim_bin, ["-c", sc, "-q", "-t", str(scale)], port), work

    def _send(self, m, work, name, source, sender, n, *args):
        return mxload(self.mxload_bin, m.port, "127.1.0.5", "gmail.com", source,
                      sender, n, os.path.join(work, name + ".json"), *args)

    def test_unauth(self):
        """20 unauthenticated messages: the domain loses 1 point a refusal
        (80 -> below 15 after 66), so at least 65 deferrals (recovery at
        x60 is 1 point a real minute), then each message bounces with
        5.7.26 (the log's order interleaves sessions in flight)."""
        src = "127.0.91.6"
        m, work = self._gmail(60, "unauth")
        try:
            j = self._send(m, work, "unauth", src, "unauth.example", 20)
        finally:
            rc, _, err = m.stop()
        assert rc == 0, err
        assert outcomes(j)["bounced"] == 20 and outcomes(j)["delivered"] == 0, j["retry"]
        eod = [(e["code"], e["enhanced"]) for e in read_events(m.events)
               if e["client"] == src and e["stage"] == "eod"]
        assert eod.count((550, "5.7.26")) == 20, eod
        assert eod.count((421, "4.7.26")) >= 65, eod
        assert set(eod) == {(421, "4.7.26"), (550, "5.7.26")}, set(eod)

    def test_badlist(self):
        """3 trap hits (10 each) and 10 unknown users (2 each): 80 -> 30,
        clean mail deferred with 4.7.0; 10 more unknown users: below 15,
        clean mail blocked with 5.7.1 (x60: a few points of recovery in
        the test's real minute at most)."""
        src = "127.0.91.7"
        m, work = self._gmail(60, "badlist")
        try:
            j = self._send(m, work, "traps", src, "auth.example", 3, "--rcpt", "trap1")
            assert outcomes(j)["delivered"] == 3, j["retry"]
            j = self._send(m, work, "unknown_a", src, "auth.example", 10,
                           "--rcpt", "unknown1")
            assert outcomes(j)["bounced"] == 10, j["retry"]
            j = self._send(m, work, "clean_a", src, "auth.example", 5,
                           "--retry-until", "0.5")
            assert outcomes(j)["deferred"] == 5, j["retry"]
            j = self._send(m, work, "unknown_b", src, "auth.example", 10,
                           "--rcpt", "unknown2")
            assert outcomes(j)["bounced"] == 10, j["retry"]
            j = self._send(m, work, "clean_b", src, "auth.example", 5)
            assert outcomes(j)["bounced"] == 5, j["retry"]
        finally:
            rc, _, err = m.stop()
        assert rc == 0, err
        evs = [e for e in read_events(m.events) if e["client"] == src]
        refused = [(e["code"], e["enhanced"], e["reason"]) for e in evs if e["code"] >= 400
                   and not (e["reason"] or "").startswith("protocol.")]
        assert refused.count((550, "5.1.1", "user.unknown")) == 20, refused
        assert (421, "4.7.0", "reputation.temp") in refused, refused
        assert refused.count((550, "5.7.1", "reputation.block")) == 5, refused

    def test_recover(self):
        """40 unknown users take a Gmail sender to 0; at x3600 (an hour a
        real second): blocked at once (a slow machine has 15 h of margin),
        deferred with 4.7.0 at about 27 h (12 h of margin each way),
        accepted at 45 h or later (at least 40 h after the block)."""
        src = "127.0.91.8"
        m, work = self._gmail(3600, "recover")
        try:
            j = self._send(m, work, "unknown", src, "auth.example", 40, "--rcpt", "unknown1")
            assert outcomes(j)["bounced"] == 40, j["retry"]
            t0 = time.monotonic()
            j = self._send(m, work, "blocked", src, "auth.example", 5)
            assert outcomes(j)["bounced"] == 5, j["retry"]
            time.sleep(max(0.0, 27.5 - (time.monotonic() - t0)))
            j = self._send(m, work, "deferred", src, "auth.example", 5,
                           "--retry-until", "0.5")
            assert outcomes(j)["deferred"] == 5, j["retry"]
            time.sleep(max(0.0, 45 - (time.monotonic() - t0)))
            j = self._send(m, work, "recovered", src, "auth.example", 5)
            assert outcomes(j)["delivered"] == 5 and j["retry"]["attempts"] == 5, j["retry"]
        finally:
            rc, _, err = m.stop()
        assert rc == 0, err


if __name__ == "__main__":
    sys.exit(run_suite("invariants mxload", Suite))
