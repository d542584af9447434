"""Reports over many runs: the scenario x MTA matrix, flaky expectations,
JUnit XML and JSON for CI.

A Result is one run of one scenario file with one adapter: its exit status
(rn_run's EXIT_*), its expectation rows (rn_expect.Row) and why it could not
run, if it could not.  Nothing here starts a process.
"""
import json
import xml.etree.ElementTree as ET

STATUS = {0: "pass", 1: "fail", 3: "unavailable", 130: "interrupted"}


class Result:
    """One run: scenario name and file, adapter, repetition, outcome."""

    def __init__(self, scenario, path, adapter, rep):
        self.scenario, self.path, self.adapter, self.rep = scenario, path, adapter, rep
        self.rc = None          # rn_run exit status of this run
        self.rows = []          # rn_expect.Row
        self.error = ""         # why it did not run to a verdict (rc 3, 130)
        self.seconds = 0.0
        self.workdir = None     # kept work directory, if any

    @property
    def status(self):
        return STATUS.get(self.rc, "error")


def cells(results):
    """{(scenario, adapter): [Result]} in first-seen order."""
    out = {}
    for r in results:
        out.setdefault((r.scenario, r.adapter), []).append(r)
    return out


def flaky(results):
    """[(scenario, adapter, expectation, failed runs, runs)]: expectations
    that failed in some runs of a cell and passed in others."""
    out = []
    for (scen, ad), rs in cells(results).items():
        judged = [r for r in rs if r.rows]
        seen = {}
        for r in judged:
            for row in r.rows:
                seen.setdefault(row.what, []).append(row.ok)
        for what, oks in seen.items():
            bad = oks.count(False)
            if 0 < bad < len(judged) or (0 < bad and len(oks) < len(judged)):
                out.append((scen, ad, what, bad, len(judged)))
    return out


def cell_text(rs):
    """'PASS', 'FAIL', 'n/a', or 'PASS 9/10' when repeated."""
    n = len(rs)
    ok = sum(1 for r in rs if r.rc == 0)
    if all(r.rc == 3 for r in rs):
        return "n/a"
    if n == 1:
        return rs[0].status.upper()
    return "%s %d/%d" % ("PASS" if ok == n else "FLAKY" if ok else "FAIL", ok, n)


def matrix(results, out):
    """Print scenario x MTA with pass/fail (and pass counts when repeated),
    then the flaky expectations by name and why a cell could not run."""
    cs = cells(results)
    scens = list(dict.fromkeys(s for s, _ in cs))
    ads = list(dict.fromkeys(a for _, a in cs))
    w0 = max([len("scenario")] + [len(s) for s in scens])
    texts = {k: cell_text(v) for k, v in cs.items()}
    ws = [max([len(a)] + [len(texts.get((s, a), "")) for s in scens]) for a in ads]
    out.write("  %-*s  %s\n" % (w0, "scenario", "  ".join(
        "%-*s" % (w, a) for w, a in zip(ws, ads))))
    out.write("  %s  %s\n" % ("-" * w0, "  ".join("-" * w for w in ws)))
    for s in scens:
        out.write("  %-*s  %s\n" % (w0, s, "  ".join(
            "%-*s" % (w, texts.get((s, a), "-")) for w, a in zip(ws, ads))))
    for scen, ad, what, bad, n in flaky(results):
        out.write("mxrun: flaky: %s with %s: '%s' failed %d of %d runs\n"
                  % (scen, ad, what, bad, n))
    for (scen, ad), rs in cs.items():
        why = next((r.error for r in rs if r.rc == 3 and r.error), None)
        if why:
            out.write("mxrun: %s with %s could not run: %s\n" % (scen, ad, why))


def junit(results, path):
    """Write JUnit XML: one testsuite per scenario x adapter, one testcase
    per expectation and run; a run that could not start is one skipped
    (environment) or errored testcase."""
    root = ET.Element("testsuites", name="mxrun")
    tot = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0, "time": 0.0}
    for (scen, ad), rs in cells(results).items():
        suite = ET.SubElement(root, "testsuite", name="%s[%s]" % (scen, ad))
        cnt = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
        secs = 0.0
        for r in rs:
            secs += r.seconds
            suffix = " (run %d)" % r.rep if len(rs) > 1 else ""
            cls = "mxrun.%s.%s" % (scen, ad)
            if not r.rows:
                tc = ET.SubElement(suite, "testcase", classname=cls,
                                   name="run" + suffix, time="%.3f" % r.seconds)
                cnt["tests"] += 1
                if r.rc == 3:
                    ET.SubElement(tc, "skipped", message=r.error or "environment cannot run it")
                    cnt["skipped"] += 1
                elif r.rc != 0:
                    e = ET.SubElement(tc, "error", message=r.error or "exit %s" % r.rc,
                                      type=r.status)
                    e.text = r.error
                    cnt["errors"] += 1
                continue
            for i, row in enumerate(r.rows):
                tc = ET.SubElement(suite, "testcase", classname=cls,
                                   name=row.what + suffix,
                                   time="%.3f" % (r.seconds if i == 0 else 0.0))
                cnt["tests"] += 1
                if not row.ok:
                    f = ET.SubElement(tc, "failure", type="expectation",
                                      message="expected %s, observed %s" % (
                                          row.expected, row.observed))
                    f.text = "%s\nexpected: %s\nobserved: %s\nfile: %s\n%s" % (
                        row.what, row.expected, row.observed, r.path,
                        ("work directory: %s\n" % r.workdir) if r.workdir else "")
                    cnt["failures"] += 1
        for k, v in cnt.items():
            suite.set(k, str(v))
            tot[k] += v
        suite.set("time", "%.3f" % secs)
        tot["time"] += secs
    for k, v in tot.items():
        root.set(k, "%.3f" % v if k == "time" else str(v))
    ET.ElementTree(root).write(path, encoding="utf-8", xml_declaration=True)


def as_json(results, rc, path):
    """Write every run with its checks, the flaky expectations and the exit."""
    doc = {
        "exit": rc,
        "runs": [{
            "scenario": r.scenario, "file": r.path, "adapter": r.adapter,
            "run": r.rep, "result": r.status, "exit": r.rc,
            "seconds": round(r.seconds, 3), "error": r.error or None,
            "workdir": r.workdir,
            "checks": [{"expectation": x.what, "expected": x.expected,
                        "observed": x.observed, "ok": x.ok} for x in r.rows],
        } for r in results],
        "flaky": [{"scenario": s, "adapter": a, "expectation": w,
                   "failed": b, "runs": n} for s, a, w, b, n in flaky(results)],
    }
    with open(path, "w") as f:
        json.dump(doc, f, indent=2)
        f.write("\n")
