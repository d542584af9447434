#!/usr/bin/env python3
"""Retry-logic scenario runner tests: mxrun drives real MTAs through a real
mxsim.  Runs every shipped scenario in harness/scenarios/ against every
adapter that is present (each must pass; a missing adapter or MTA is
reported as skipped with the reason), the deliberately broken ones in
harness/scenarios/selftest/ (each must fail readably), bad scenario files
(each must be refused with file:line:column before anything starts), the
CI outputs (JUnit XML checked for structure and, with xmllint, against
harness/runner/junit.xsd; JSON; the matrix; flaky expectations), the
--check lint, and an interrupted run (nothing it started may survive).

Usage: test_runner.py --build BUILD_DIR [TEST_NAME ...]
Prints one line per test and ends with "runner: N passed, N failed".
Needs Postfix (see harness/runner/README.md); scenarios with a timeline
need an mxsim built with --control and are skipped (and said so) without.
"""
import glob
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
MXRUN = os.path.join(ROOT, "harness", "runner", "mxrun")
SCEN = os.path.join(ROOT, "harness", "scenarios")

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "harness", "runner"))
from mxsim_proc import Skip, run_suite  # noqa: E402
import rn_adapter  # noqa: E402
import rn_report  # noqa: E402


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
    ("wait for an unknown group", GOOD + "timeline:\n"
     "  - {at: 1m, wait: {attempted: [nosuch]}}\n",
     r":8:33: wait.attempted: no injection group 'nosuch'"),
    ("mixed settings", GOOD.replace(
        "mta: {adapter: postfix}",
        "mta: {adapter: postfix, settings: {postfix: {a: 1}, queue_run_delay: 1s}}"),
     r":4:35: mta.settings mixes adapter names \(postfix\) and settings"),
    ("concurrency for an unknown adapter", GOOD + "expect:\n  concurrency:\n"
     "    - {provider: gmail, from: 1m, to: 2m, connections: {min: 1}, adapters: [qmail]}\n",
     r":9:77: expect\.concurrency\[0\]\.adapters: unknown adapter 'qmail'"),
    ("retry min above max", GOOD.replace(
        "mta: {adapter: postfix}",
        "mta: {adapter: postfix, retry: {min_backoff: 9s, max_backoff: 3s}}"),
     r":4:32: mta.retry: min_backoff 9s is above max_backoff 3s"),
]

# An MTA that departs from what a scenario checks: its run must fail on
# exactly these checks (row names as mxrun prints them, by prefix) and pass
# the rest, so that the deviation stays visible and nothing else hides
# behind it.
DEVIATIONS = {
    ("mx-fallback", "haraka"): (
        "Haraka defers a message after a 421 greeting instead of trying the "
        "next MX host (RFC 5321 section 5.1), so it never reaches the "
        "secondary and the messages bounce at the queue lifetime",
        ("group deferring outcome", "delivery attempts per recipient")),
}

SHIPPED = sorted(os.path.splitext(os.path.basename(p))[0]
                 for p in glob.glob(os.path.join(SCEN, "*.yaml")))

# A scenario with a per-minute limit that time scale 60 puts out of reach
# of one session (100 a real second) for mxrun --check.
LINT = GOOD.replace("count: 1,", "count: 300,").replace(
    "mta: {adapter: postfix}",
    "mta: {adapter: postfix, settings: {smtp_destination_concurrency_limit: 1}}")


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
        """Every adapter present runs the scenario, all at once (each run has
        its own mxsim and MTA instance); each must pass, or fail exactly on
        the checks DEVIATIONS names for it."""
        path = os.path.join(SCEN, name + ".yaml")
        with open(path) as f:
            text = f.read()
        if re.search(r"\{at: [^}]*(limits|reputation|outage)", text) and not self.control:
            raise Skip("needs mxsim --control")
        procs, skipped, problems = {}, [], []
        for adapter in sorted(rn_adapter.known_settings()):
            try:
                rn_adapter.load(adapter)
            except rn_adapter.AdapterError as e:
                skipped.append("%s (%s)" % (adapter, e))
                continue
            procs[adapter] = subprocess.Popen(
                [MXRUN, "--build", self.build, "--mta", adapter, path],
                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for adapter, p in procs.items():
            try:
                out, err = p.communicate(timeout=900)
            except subprocess.TimeoutExpired:
                p.terminate()
                out, err = p.communicate()
                problems.append("%s: mxrun still running after 900 s" % adapter)
                continue
            if p.returncode == 3:
                skipped.append("%s (%s)" % (adapter, (err.strip().splitlines() or [out])[-1]))
                continue
            dev = DEVIATIONS.get((name, adapter))
            failing = [r for r in _failed_rows(out)]
            if dev is None:
                ok = p.returncode == 0 and "%s: PASS" % name in out and not failing
            else:
                ok = p.returncode == 1 and len(failing) == len(dev[1]) and all(
                    any(r.startswith(w) for r in failing) for w in dev[1])
            if not ok:
                problems.append("%s (rc %d):\n%s%s" % (adapter, p.returncode, out, err))
        if skipped:
            print("    %s: not run with %s" % (name, "; ".join(skipped)), flush=True)
        if not procs:
            raise Skip("no adapter can run here")
        assert not problems, "\n".join(problems)

    def test_junit_json_matrix(self):
        with tempfile.TemporaryDirectory(prefix="mxrun-ci-") as d:
            xml, js = os.path.join(d, "r.xml"), os.path.join(d, "r.json")
            rc, out, err = mxrun(self.build, "--junit", xml, "--json", js,
                                 os.path.join(SCEN, "selftest", "expect-fail.yaml"),
                                 os.path.join(SCEN, "too-many-rcpts.yaml"))
            assert rc == 1, (rc, out, err)
            # the matrix: one row per scenario, one column per adapter
            assert re.search(r"scenario +postfix\n", out), out
            assert re.search(r"expect-fail +FAIL *\n", out), out
            assert re.search(r"too-many-rcpts +PASS *\n", out), out
            root = ET.parse(xml).getroot()
            assert root.tag == "testsuites", root.tag
            suites = root.findall("testsuite")
            assert [s.get("name") for s in suites] == [
                "expect-fail[postfix]", "too-many-rcpts[postfix]"], suites
            total = 0
            for s in suites:
                cases = s.findall("testcase")
                assert cases and all(c.get("name") and c.get("classname") for c in cases)
                fails = [c for c in cases if c.find("failure") is not None]
                assert int(s.get("tests")) == len(cases), s.attrib
                assert int(s.get("failures")) == len(fails), s.attrib
                assert s.get("errors") == "0" and s.get("skipped") == "0", s.attrib
                float(s.get("time"))
                total += len(cases)
            assert int(root.get("tests")) == total, root.attrib
            ef = {c.get("name"): c.find("failure") for c in suites[0].findall("testcase")}
            assert ef["group multi outcome"] is not None, ef
            assert "expected 6 bounced, observed 6 delivered" in \
                ef["group multi outcome"].get("message"), ef["group multi outcome"].attrib
            assert ef["recipients delivered twice"] is None
            assert suites[1].get("failures") == "0", suites[1].attrib
            valid_junit(xml)
            with open(js) as f:
                doc = json.load(f)
            assert doc["exit"] == 1 and doc["flaky"] == [], doc
            assert [(r["scenario"], r["adapter"], r["result"]) for r in doc["runs"]] == [
                ("expect-fail", "postfix", "fail"), ("too-many-rcpts", "postfix", "pass")]
            assert sum(not c["ok"] for c in doc["runs"][0]["checks"]) == 2, doc

    def test_flaky_by_name(self):
        """rn_report names an expectation that failed in some runs only."""
        rs = []
        for rep, ok in ((1, True), (2, False), (3, True)):
            r = rn_report.Result("s", "s.yaml", "postfix", rep)
            r.rc = 0 if ok else 1
            r.rows = [_row("group a outcome", True), _row("retry interval", ok)]
            rs.append(r)
        assert rn_report.flaky(rs) == [("s", "postfix", "retry interval", 1, 3)]
        assert rn_report.cell_text(rs) == "FLAKY 2/3"

    def test_repeat(self):
        rc, out, err = mxrun(self.build, "--repeat", "2",
                             os.path.join(SCEN, "selftest", "expect-fail.yaml"))
        assert rc == 1, (rc, out, err)
        assert re.search(r"expect-fail +FAIL 0/2", out), out
        assert "flaky" not in out, out

    def test_unknown_or_missing_adapter(self):
        path = os.path.join(SCEN, "too-many-rcpts.yaml")
        rc, out, err = mxrun(self.build, "--mta", "sendmail", path, timeout=60)
        assert rc == 2 and "unknown adapter 'sendmail'" in err, (rc, err)
        missing = [a for a in sorted(rn_adapter.known_settings()) if not _importable(a)]
        if not missing:
            raise Skip("every registered adapter is importable here")
        rc, out, err = mxrun(self.build, "--mta", missing[0], path, timeout=60)
        assert rc == 3 and "environment cannot run it" in err, (rc, out, err)
        assert "mxsim on port" not in out, out
        # in a matrix the cell reads n/a, and JUnit has a skipped testcase
        with tempfile.TemporaryDirectory(prefix="mxrun-na-") as d:
            xml = os.path.join(d, "r.xml")
            rc, out, err = mxrun(self.build, "--matrix", ",".join(missing), "--junit",
                                 xml, path, os.path.join(SCEN, "outage.yaml"), timeout=60)
            assert rc == 3, (rc, out, err)
            assert re.search(r"too-many-rcpts +n/a", out), out
            assert "could not run: environment cannot run it" in out, out
            root = ET.parse(xml).getroot()
            sk = root.findall("testsuite/testcase/skipped")
            assert len(sk) == 2 * len(missing) and root.get("skipped") == str(len(sk)), \
                ET.tostring(root)
            valid_junit(xml)

    def test_check_lint(self):
        with tempfile.TemporaryDirectory(prefix="mxrun-lint-") as d:
            path = os.path.join(d, "lint.yaml")
            with open(path, "w") as f:
                f.write(LINT)
            rc, out, err = mxrun(self.build, "--check", path, timeout=60)
            assert rc == 0, (rc, out, err)
            assert re.search(r"warning: gmail limits\.per_ip\.messages\.minute = 100 at "
                             r"time scale 60 is 100 messages in 1 real s \(100/s\); postfix "
                             r"sends at most 1 sessions x 50/s = 50/s: unreachable", out), out
            assert "OK (1 warnings)" in out, out

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


def valid_junit(path):
    """Validate PATH against harness/runner/junit.xsd when xmllint is here
    (ci.sh installs it)."""
    if shutil.which("xmllint"):
        p = subprocess.run(["xmllint", "--noout", "--schema",
                            os.path.join(ROOT, "harness", "runner", "junit.xsd"), path],
                           capture_output=True, text=True)
        assert p.returncode == 0, p.stderr


def _row(what, ok):
    import rn_expect
    return rn_expect.Row(what, "x", "y", ok)


def _importable(adapter):
    try:
        rn_adapter.load(adapter)
        return True
    except rn_adapter.AdapterError:
        return False


def _failed_rows(out):
    """The names of the checks an mxrun table marks FAIL."""
    return [re.split(r"\s{2,}", line.strip())[0] for line in out.splitlines()
            if line.startswith("  ") and line.rstrip().endswith(" FAIL")]


def _add_scenario_tests():
    """test_SCENARIO for every shipped scenario (every adapter inside)."""
    for name in SHIPPED:
        test = "test_%s" % name.replace("-", "_")
        setattr(Suite, test, lambda self, n=name: self._scenario(n))


_add_scenario_tests()


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
    sys.exit(run_suite("runner", Suite, width=40))
