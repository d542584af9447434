#!/usr/bin/env python3
"""End-to-end tests of the command-line surface of issue 17: --version on
every command (one version: the VERSION file meson reads), README's option
table against mxsim --help, mxsim --summary-json (against the exit table
and the event log, stopped by SIGTERM, SIGINT and --duration), SIGHUP
reopening the event log after a rename (logrotate), mxload --json (jansson)
against mxload's own text report and mxsim's summary, and reports/'s
PyYAML loading (YAML escapes, tags and complex keys; file:line:col errors).

Usage: test_cli.py --build BUILD_DIR [TEST_NAME ...]
Prints one line per test and ends with "cli: N passed, N failed".
"""
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from mxsim_proc import Client, Mxsim, free_port, read_events, run_suite  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "reports"))
import rpt_model  # noqa: E402

PY = "/usr/bin/python3"
GMAIL_MX = "127.1.0.5"
SINK_MX = "127.0.0.1"


def wait_for(cond, what, timeout=30):
    """Poll until cond() is true; the deadline only bounds a failure."""
    deadline = time.time() + timeout
    while not cond():
        if time.time() > deadline:
            raise AssertionError("timed out waiting for " + what)
        time.sleep(0.05)


def exit_tables(out):
    """The exit table's reply rows {(provider, reason): (code, enhanced,
    n)}, transaction rows {(provider, outcome, reason): n} and totals."""
    replies, txns, totals = {}, {}, {}
    section = None
    for line in out.splitlines():
        if line.startswith("provider   reason"):
            section = "replies"
            continue
        if line.startswith("provider   outcome"):
            section = "txns"
            continue
        m = re.match(r"connections (\d+), messages accepted (\d+) \((\d+) "
                     r"recipients\), 4xx replies (\d+), 5xx replies (\d+)$", line)
        if m:
            totals.update(zip(("connections", "messages", "recipients",
                               "replies_4xx", "replies_5xx"), map(int, m.groups())))
            section = None
            continue
        m = re.match(r"transactions: (\d+) accepted, (\d+) deferred \(4xx\), "
                     r"(\d+) refused \(5xx\), (\d+) abandoned$", line)
        if m:
            totals["transactions"] = dict(zip(("accepted", "deferred", "refused",
                                               "abandoned"), map(int, m.groups())))
            continue
        m = re.match(r"(\(no MX\)|\S+)\s+(.*)$", line)
        if section == "replies" and m:
            reason, code, enh, n = m.group(2).split()
            replies[(m.group(1), reason)] = (int(code), None if enh == "-" else enh, int(n))
        elif section == "txns" and m:
            outcome, reason, code, enh, n = m.group(2).split()
            txns[(m.group(1), outcome, reason)] = int(n)
    return replies, txns, totals


def summary_tables(s):
    """The same three from a --summary-json document."""
    replies, txns = {}, {}
    rows = dict(s["providers"])
    rows["(no MX)"] = s["no_mx"]
    for name, row in rows.items():
        for r in row["replies"]:
            replies[(name, r["reason"])] = (r["code"], r["enhanced"], r["count"])
        t = row["transactions"]
        if t["accepted"]:
            txns[(name, "accepted", "ok.message")] = t["accepted"]
        if t["abandoned"]:
            txns[(name, "abandoned", "-")] = t["abandoned"]
        for r in t["reasons"]:
            txns[(name, r["outcome"], r["reason"])] = r["count"]
    return replies, txns, s["totals"]


def eod_lines(path):
    """End-of-DATA events among the whole lines of a log being written."""
    with open(path) as f:
        return sum(line.endswith("\n") and json.loads(line)["stage"] == "eod"
                   for line in f)


class Suite:
    def __init__(self, build):
        self.build = build
        self.mxsim = os.path.join(build, "sim", "mxsim")
        self.mxload = os.path.join(build, "harness", "mxload")
        self.port = free_port()
        self.tmp = tempfile.mkdtemp(prefix="mxsim-cli-")

    def start(self, *args):
        return Mxsim(self.mxsim, ["-q", "-w", "1"] + list(args), self.port)

    def run(self, *cmd):
        return subprocess.run(list(cmd), capture_output=True, text=True, timeout=120)

    def test_version_everywhere(self):
        """mxsim, mxload, mxreport and mxrun print meson's project version,
        which is the VERSION file's, for -V and --version."""
        with open(os.path.join(ROOT, "VERSION")) as f:
            want = f.read().strip()
        info = json.loads(self.run("meson", "introspect", "--projectinfo",
                                   self.build).stdout)
        assert info["version"] == want, (info["version"], want)
        cmds = {"mxsim": [self.mxsim], "mxload": [self.mxload],
                "mxreport": [PY, os.path.join(ROOT, "reports", "mxreport")],
                "mxrun": [PY, os.path.join(ROOT, "harness", "runner", "mxrun")]}
        for name, cmd in cmds.items():
            for flag in ("-V", "--version"):
                r = self.run(*(cmd + [flag]))
                assert (r.returncode, r.stdout, r.stderr) == (0, "%s %s\n" % (name, want), ""), \
                    (name, flag, r.returncode, r.stdout, r.stderr)

    def test_readme_option_table(self):
        """README's mxsim option table lists exactly --help's options, in order."""
        r = self.run(self.mxsim, "--help")
        assert r.returncode == 0, r.stderr
        helped = [m.group(1).strip() for m in
                  re.finditer(r"^  ((?:-\w, |    )--[a-z-]+(?: [A-Z]+)?)", r.stdout, re.M)]
        helped = [h.strip() for h in helped]
        with open(os.path.join(ROOT, "README.md")) as f:
            text = f.read()
        table = text.split("| option | meaning |\n|---|---|\n", 1)[1].split("\n\n", 1)[0]
        listed = [re.match(r"\| `([^`]+)` \|", row).group(1) for row in table.splitlines()]
        assert len(helped) > 25, helped
        assert listed == helped, (sorted(set(helped) - set(listed)),
                                  sorted(set(listed) - set(helped)))

    def _traffic(self):
        """Two accepted messages (gmail, sink) and a refused one (gmail,
        unknown recipient); returns the number of sessions."""
        c = Client(GMAIL_MX, self.port, "127.0.71.1")
        assert c.message("a@auth.example", ["u1@gmail.com"])[:2] == ("eod", 250)
        r = c.message("a@auth.example", ["unknown7@gmail.com"])
        assert r[:2] == ("rcpt", 550), r
        c.close()
        c = Client(SINK_MX, self.port, "127.0.71.2")
        assert c.message("b@sink.example", ["x@sink.example"])[:2] == ("eod", 250)
        c.close()
        return 2

    def test_summary_json_sigterm(self):
        """--summary-json at SIGTERM: the exit table's rows and totals, the
        event log's count, the clock and the version; no temporary file."""
        out = os.path.join(self.tmp, "term", "summary.json")
        os.makedirs(os.path.dirname(out))
        m = self.start("-t", "60", "--summary-json", out)
        try:
            sessions = self._traffic()
        finally:
            rc, stdout, err = m.stop(signal.SIGTERM)
        assert rc == 0, err
        assert os.listdir(os.path.dirname(out)) == ["summary.json"]
        with open(out) as f:
            s = json.load(f)
        assert s["stopped_by"] == "SIGTERM", s["stopped_by"]
        with open(os.path.join(ROOT, "VERSION")) as f:
            assert s["version"] == f.read().strip()
        assert s["time_scale"] == 60 and s["sim_end_ms"] >= s["sim_start_ms"], s
        assert s["sim_start"].endswith("Z") and s["scenario"].endswith("default.yaml")
        text = exit_tables(stdout)
        js = summary_tables(s)
        assert text[0] == js[0], (text[0], js[0])
        assert text[1] == js[1], (text[1], js[1])
        assert text[2] == {k: js[2][k] for k in text[2]}, (text[2], js[2])
        assert s["totals"]["connections"] == sessions
        assert s["totals"]["messages"] == 2 and s["totals"]["transactions"]["refused"] == 1
        refused = s["providers"]["gmail"]["transactions"]["reasons"]
        assert [(r["outcome"], r["code"], r["enhanced"]) for r in refused] == \
            [("refused", 550, "5.1.1")], refused
        assert s["event_log"]["path"] == m.events and s["event_log"]["dropped"] == 0
        assert s["event_log"]["written"] == len(read_events(m.events)) > 0

    def test_summary_json_sigint_and_duration(self):
        """Stopped by SIGINT, and by --duration without a signal."""
        out = os.path.join(self.tmp, "int.json")
        m = self.start("--summary-json", out)
        rc, _, err = m.stop(signal.SIGINT)
        assert rc == 0, err
        with open(out) as f:
            s = json.load(f)
        assert s["stopped_by"] == "SIGINT" and s["totals"]["connections"] == 0, s
        out = os.path.join(self.tmp, "dur.json")
        r = self.run(self.mxsim, "-q", "-w", "1", "-p", str(self.port),
                     "--summary-json", out, "-d", "0.2")
        assert r.returncode == 0, r.stderr
        with open(out) as f:
            assert json.load(f)["stopped_by"] == "duration"
        bad = os.path.join(self.tmp, "no-such-dir", "s.json")
        r = self.run(self.mxsim, "-q", "-w", "1", "-p", str(self.port),
                     "--summary-json", bad, "-d", "0.1")
        assert r.returncode == 1 and "--summary-json" in r.stderr and \
            "no-such-dir" in r.stderr, (r.returncode, r.stderr)

    def test_sighup_reopens_event_log(self):
        """Rename the log, SIGHUP, more mail: the old file holds the first
        sessions, the new one the later ones, every line whole, and the
        two add up to the summary's count."""
        out = os.path.join(self.tmp, "hup.json")
        m = Mxsim(self.mxsim, ["-w", "1", "--summary-json", out], self.port)
        old = m.events + ".1"
        first, second = 3, 4
        try:
            for i in range(first):
                c = Client(SINK_MX, self.port, "127.0.72.%d" % (i + 1))
                assert c.message("a@hup.example", ["x@sink.example"])[:2] == ("eod", 250)
                c.close()
            # the workers hand their lines to the writer within 200 ms
            wait_for(lambda: eod_lines(m.events) == first, "the first sessions in the log")
            os.rename(m.events, old)
            m.proc.send_signal(signal.SIGHUP)
            wait_for(lambda: os.path.exists(m.events), "the reopened log")
            for i in range(second):
                c = Client(SINK_MX, self.port, "127.0.73.%d" % (i + 1))
                assert c.message("b@hup.example", ["y@sink.example"])[:2] == ("eod", 250)
                c.close()
            assert m.proc.poll() is None, "SIGHUP stopped mxsim"
        finally:
            rc, _, err = m.stop()
        assert rc == 0, err
        assert "event log %s reopened" % m.events in err, err
        before, after = read_events(old), read_events(m.events)
        assert {e["client"] for e in before} == {"127.0.72.%d" % (i + 1) for i in range(first)}
        assert {e["client"] for e in after} == {"127.0.73.%d" % (i + 1) for i in range(second)}
        assert sum(e["stage"] == "eod" for e in before) == first
        assert sum(e["stage"] == "eod" for e in after) == second
        with open(out) as f:
            s = json.load(f)
        assert s["event_log"]["written"] == len(before) + len(after), s["event_log"]
        assert s["event_log"]["dropped"] == 0

    def test_mxload_json(self):
        """mxload --json parses to what its text report says (outcomes,
        rows, retries, aborts), and its accepted messages are mxsim's."""
        out = os.path.join(self.tmp, "load.json")
        js = os.path.join(self.tmp, "mxload.json")
        m = self.start("--summary-json", out)
        try:
            r = self.run(self.mxload, "-q", "-t", "sink=127.0.0.1:%d" % self.port,
                         "-s", "127.0.74.1/32", "-n", "60", "-c", "3", "--json", js)
            assert r.returncode == 0, r.stderr
            a = self.check_mxload(r.stdout, js)
            assert a["outcome"]["accepted"] == 60, a["outcome"]
            r = self.run(self.mxload, "-q", "-t", "gmail=%s:%d" % (GMAIL_MX, self.port),
                         "-s", "127.0.75.1/32", "-f", "auth.example", "-n", "40",
                         "-c", "2", "--seed", "5", "--abort-prob", "0.3",
                         "--retry", "0.1s", "--retry-until", "2", "--json", js)
            assert r.returncode == 0, r.stderr
            b = self.check_mxload(r.stdout, js)
        finally:
            rc, _, err = m.stop()
        assert rc == 0, err
        with open(out) as f:
            s = json.load(f)
        assert s["providers"]["sink"]["messages"] == a["outcome"]["accepted"]
        assert b["aborts"]["planned"] > 0 and "retry" in b, b.keys()
        text = r.stdout
        fin = re.search(r"messages  delivered (\d+) bounced (\d+) expired (\d+) "
                        r"deferred (\d+) aborted (\d+)", text)
        assert fin, text
        assert [int(x) for x in fin.groups()] == [b["retry"][k] for k in
                                                   ("delivered", "bounced", "expired",
                                                    "deferred", "aborted")]
        for stage in ("pre_mail", "mid_rcpt", "mid_data", "after_dot"):
            ab = re.search(r"  %s\s+rst\s+(\d+)  close\s+(\d+)" % stage, text)
            assert ab and [int(x) for x in ab.groups()] == \
                [b["aborts"][stage]["rst"], b["aborts"][stage]["close"]], (stage, text)

    def check_mxload(self, text, path):
        """The --json document against the text report; returns it."""
        with open(path) as f:
            j = json.load(f)
        assert list(j)[:12] == ["messages", "elapsed_s", "msg_per_s", "connections",
                                "established", "errors", "aborted", "interrupted",
                                "dropped_rows", "outcome", "eod_latency_ms",
                                "targets"], list(j)
        first = re.search(r"mxload: (\d+) messages in .*, (\d+) connections, (\d+) errors",
                          text)
        assert first and [int(x) for x in first.groups()] == \
            [j["messages"], j["connections"], j["errors"]], (text, j)
        oc = re.search(r"outcome   accepted (\d+)  deferred (\d+)  rejected (\d+)  "
                       r"error (\d+)", text)
        assert [int(x) for x in oc.groups()] == [j["outcome"][k] for k in
                                                 ("accepted", "deferred", "rejected",
                                                  "error")]
        rows = []
        lines = text.split("target  stage   code enhanced      count  text\n", 1)[1]
        for line in lines.splitlines():
            m = re.match(r"(\S+)\s+(\w+)\s+(\d+)  (\S+)\s+(\d+)  ", line)
            if not m:
                break
            rows.append((m.group(1), m.group(2), int(m.group(3)),
                         "" if m.group(4) == "-" else m.group(4), int(m.group(5))))
        assert rows == [(r["target"], r["stage"], r["code"], r["enhanced"], r["count"])
                        for r in j["rows"]], (rows, j["rows"])
        assert isinstance(j["elapsed_s"], float) and j["interrupted"] is False
        return j

    def test_reports_yaml(self):
        """reports/ read YAML with PyYAML: escapes, tags and complex keys
        follow YAML (rpt_yaml.py did not); errors name file:line:col."""
        p = os.path.join(self.tmp, "y.yaml")
        with open(p, "w") as f:
            f.write('a: "\\x7f"\nb: !!str 5\n? key\n: value\nc: [1, 2.5, null]\n')
        assert rpt_model.load_yaml(p) == {"a": "\x7f", "b": "5", "key": "value",
                                          "c": [1, 2.5, None]}
        assert not os.path.exists(os.path.join(ROOT, "reports", "rpt_yaml.py"))
        prof = os.path.join(self.tmp, "profiles")
        os.makedirs(prof)
        with open(os.path.join(prof, "bad.yaml"), "w") as f:
            f.write("provider: bad\nlimits: [1, 2\nx: 3\n")
        try:
            rpt_model.load_yaml(os.path.join(prof, "bad.yaml"))
            raise AssertionError("no error")
        except rpt_model.YamlError as e:
            assert re.match(r".*/bad\.yaml:3:2: while parsing a flow sequence: ", str(e)), e
        r = self.run(PY, os.path.join(ROOT, "reports", "mxreport"), "--no-plots",
                     "--profiles", prof, "-o", os.path.join(self.tmp, "rep"),
                     os.path.join(ROOT, "tests", "data", "rpt_events.jsonl"))
        assert r.returncode == 1 and re.search(r"bad\.yaml:3:2: ", r.stderr), \
            (r.returncode, r.stderr)


if __name__ == "__main__":
    sys.exit(run_suite("cli", Suite))
