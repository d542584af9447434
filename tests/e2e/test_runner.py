#!/usr/bin/env python3
"""Retry-logic scenario runner tests: mxrun drives a real Postfix through a
real mxsim.  Runs every shipped scenario in harness/scenarios/ (each must
pass), the deliberately broken ones in harness/scenarios/selftest/ (each
must fail readably), bad scenario files (each must be refused with
file:line:column before anything starts), and an interrupted run (nothing
it started may survive).

Usage: test_runner.py --build BUILD_DIR [TEST_NAME ...]
Prints one line per test and ends with "runner: N passed, N failed".
Needs Postfix (see harness/runner/README.md); scenarios with a timeline
need an mxsim built with --control and are skipped (and said so) without.
"""
import glob
import os
import re
import signal
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
MXRUN = os.path.join(ROOT, "harness", "runner", "mxrun")
SCEN = os.path.join(ROOT, "harness", "scenarios")

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from mxsim_proc import Skip, run_suite  # noqa: E402


def mxrun(build, *args, timeout=400):
    p = subprocess.run([MXRUN, "--build", build] + list(args),
                       capture_output=True, text=True, timeout=timeout)
    return p.returncode, p.stdout, p.stderr


GOOD = """\
name: t
duration: 10m
mxsim: {time_scale: 60}
mta: {adapter: postfix}
inject:
  - {at: 0, count: 1, to: "{id}@gmail.com"}
"""

# (name, file text, expected "line:col: text" regex)
BAD = [
    ("unknown top key", GOOD + "expect_typo: {}\n",
     r":7:1: scenario: unknown key 'expect_typo'"),
    ("unknown adapter", GOOD.replace("adapter: postfix", "adapter: sendmail"),
     r":4:16: mta.adapter: unknown adapter 'sendmail' \(known: exim, haraka, postfix\)"),
    ("timeline out of order", GOOD + "timeline:\n"
     "  - {at: 5m, outage: {provider: gmail, for: 1m}}\n"
     "  - {at: 2m, outage_end: {provider: gmail}}\n",
     r":9:10: timeline\[1\]\.at: 120s is before the previous entry"),
    ("beyond duration", GOOD + "  - {at: 11m, count: 1, to: \"{id}@gmail.com\"}\n",
     r":7:5: inject: at 660s is beyond the run's duration"),
    ("bad duration", GOOD.replace("10m", "ten minutes"),
     r":2:11: duration must be a duration like 90s"),
    ("address without {id}", GOOD.replace("{id}@gmail.com", "x@gmail.com"),
     r":6:27: inject\[0\]\.to must contain \{id\}"),
    ("two actions", GOOD + "timeline:\n"
     "  - {at: 1m, outage_end: {provider: gmail}, limits: {provider: gmail, set: {}}}\n",
     r":8:5: timeline\[0\] needs exactly one action"),
    ("unknown provider", GOOD + "expect:\n  concurrency:\n"
     "    - {provider: hotmail, from: 1m, to: 2m, connections: {min: 1}}\n",
     r":9:7: no provider 'hotmail' in the mxsim scenario"),
    ("unknown profile override", GOOD.replace(
        "mxsim: {time_scale: 60}",
        "mxsim: {time_scale: 60, profiles: {aol: {limits: {}}}}"),
     r":3:41: mxsim.profiles: no provider 'aol'"),
]


class Suite:
    def __init__(self, build):
        self.build = build
        self.control = "--control" in subprocess.run(
            [os.path.join(build, "sim", "mxsim"), "--help"],
            capture_output=True, text=True).stdout

    def test_help(self):
        rc, out, _ = mxrun(self.build, "--help")
        assert rc == 0 and "exit status" in out, out

    def test_bad_files(self):
        with tempfile.TemporaryDirectory(prefix="mxrun-bad-") as d:
            for name, text, want in BAD:
                path = os.path.join(d, "bad.yaml")
                with open(path, "w") as f:
                    f.write(text)
                t0 = time.time()
                rc, out, err = mxrun(self.build, path, timeout=60)
                assert rc == 2, (name, rc, out, err)
                assert re.search(re.escape(path) + want, err), (name, err)
                assert "mxsim on port" not in out, (name, out)
                assert time.time() - t0 < 20, name
            rc, out, err = mxrun(self.build, os.path.join(d, "missing.yaml"))
            assert rc == 2 and "No such file" in err, err

    def test_check_shipped(self):
        for path in sorted(glob.glob(os.path.join(SCEN, "*.yaml"))):
            rc, out, err = mxrun(self.build, "--check", path, timeout=60)
            assert rc == 0, (path, out, err)

    def _scenario(self, name):
        path = os.path.join(SCEN, name + ".yaml")
        with open(path) as f:
            if "\ntimeline:" in f.read() and not self.control:
                raise Skip("needs mxsim --control")
        rc, out, err = mxrun(self.build, path)
        assert rc == 0 and "%s: PASS" % name in out, (rc, out, err)
        assert "FAIL" not in out, out

    def test_throttle_recover(self):
        self._scenario("throttle-recover")

    def test_too_many_rcpts(self):
        self._scenario("too-many-rcpts")

    def test_reputation_collapse(self):
        self._scenario("reputation-collapse")

    def test_outage(self):
        self._scenario("outage")

    def test_timeline(self):
        self._scenario("timeline")

    def test_broken_expectation(self):
        rc, out, err = mxrun(self.build, os.path.join(SCEN, "selftest", "expect-fail.yaml"))
        assert rc == 1, (rc, out, err)
        assert re.search(r"group multi outcome +6 bounced +6 delivered, 0 bounced +FAIL", out), out
        assert re.search(r"replies '452 4\.5\.3' +<= 0 +[1-9][0-9]* +FAIL", out), out
        assert re.search(r"recipients lost .* +0 +0 of 6 +PASS", out), out
        assert "expect-fail: FAIL (2 of 8 checks failed)" in out, out
        assert "work directory kept" in out, out

    def test_mxsim_crash(self):
        rc, out, err = mxrun(self.build, os.path.join(SCEN, "selftest", "mxsim-exits.yaml"))
        assert rc == 1, (rc, out, err)
        assert "mxsim exited with status 0; last log lines:" in out, out
        assert re.search(r"processes ran to the end +no crash +mxsim exited .* FAIL", out), out
        assert "mxsim summary" in out, out

    def test_interrupt_stops_everything(self):
        p = subprocess.Popen([MXRUN, "--build", self.build,
                              os.path.join(SCEN, "throttle-recover.yaml")],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        first = p.stdout.readline()
        m = re.search(r"work (\S+)", first)
        assert m, first
        work = m.group(1)
        time.sleep(3)
        mine = procs_with(work)
        assert any("master" in c for c in mine) and any("mxsim" in c for c in mine), mine
        p.send_signal(signal.SIGTERM)
        out, err = p.communicate(timeout=60)
        assert p.returncode == 130, (p.returncode, out, err)
        assert "interrupted" in err, err
        time.sleep(0.5)
        left = procs_with(work)
        assert not left, left


def procs_with(text):
    """Command lines of processes whose command line contains TEXT."""
    found = []
    for pid in os.listdir("/proc"):
        if not pid.isdigit() or int(pid) == os.getpid():
            continue
        try:
            with open("/proc/%s/cmdline" % pid, "rb") as f:
                cmd = f.read().replace(b"\0", b" ").decode("utf-8", "replace")
        except OSError:
            continue
        if text in cmd:
            found.append(cmd)
    return found


if __name__ == "__main__":
    sys.exit(run_suite("runner", Suite, width=34))
