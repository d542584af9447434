#!/usr/bin/env python3
"""The man pages (docs/man/*.scd) tell the truth: each command's page lists
exactly the options its --help lists (both directions), and
mxsim-profile(5) lists exactly the top-level keys of a profile and of a
scenario and the limits keys that mxsim's loader accepts (the loader's own
"expected one of" list, from mxsim --check on a file with an unknown key).
With scdoc installed, the build rendered every page.

Usage: test_man.py --build BUILD_DIR [TEST_NAME ...]
Prints one line per test and ends with "man pages: N passed, N failed".
"""
import os
import re
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from mxsim_proc import Skip, run_suite  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))
MAN = os.path.join(ROOT, "docs", "man")
PAGES = ["mxsim.1", "mxload.1", "mxreport.1", "mxrun.1", "mxsim-profile.5"]
OPT = re.compile(r"--?[A-Za-z0-9][-A-Za-z0-9]*")


def sections(page):
    """{SECTION: [lines]} of an scdoc source."""
    out, cur = {}, None
    with open(os.path.join(MAN, page + ".scd")) as f:
        for line in f:
            if line.startswith("# "):
                cur = line[2:].strip()
                out[cur] = []
            elif cur is not None:
                out[cur].append(line.rstrip("\n"))
    return out


def page_terms(lines):
    """The bold terms that open a definition ("*-c, --config* _FILE_")."""
    return [m.group(1) for m in (re.match(r"\*([^*]+)\*", ln) for ln in lines)
            if m]


def page_options(page):
    return {o for t in page_terms(sections(page)["OPTIONS"])
            for o in OPT.findall(t)}


def help_options(cmd):
    """Options of --help's option lines: indented 1..8 columns, starting
    with "-"; the names before the help text (two spaces)."""
    r = subprocess.run(cmd + ["--help"], capture_output=True, text=True,
                       timeout=30)
    assert r.returncode == 0, "%s --help: rc %d %s" % (cmd, r.returncode,
                                                      r.stderr)
    out = set()
    for line in r.stdout.splitlines():
        m = re.match(r"( {1,8})-", line)
        if not m:
            continue
        spec = re.split(r"\s{2,}", line.strip())[0]
        out |= {w for w in re.split(r"[ ,]+", spec) if OPT.fullmatch(w)}
    return out


def loader_keys(binary, text):
    """The keys the loader expects where TEXT has the unknown key "bogus"."""
    with tempfile.NamedTemporaryFile("w", suffix=".yaml") as f:
        f.write(text)
        f.flush()
        r = subprocess.run([binary, "--check", f.name], capture_output=True,
                           text=True, timeout=30)
    m = re.search(r'unknown key "bogus" in \w+ \(expected one of: ([^)]*)\)',
                  r.stderr)
    assert m, "no list of keys from the loader: %s" % r.stderr
    return set(m.group(1).split(", "))


def same(what, page, real):
    missing, extra = sorted(real - page), sorted(page - real)
    assert not missing and not extra, (
        "%s: not in the page: %s; in the page only: %s" % (what, missing,
                                                          extra))


class ManSuite:
    def __init__(self, build):
        self.build = build
        self.mxsim = os.path.join(build, "sim", "mxsim")

    def test_mxsim_options(self):
        same("mxsim", page_options("mxsim.1"), help_options([self.mxsim]))

    def test_mxload_options(self):
        same("mxload", page_options("mxload.1"),
             help_options([os.path.join(self.build, "harness", "mxload")]))

    def test_mxreport_options(self):
        same("mxreport", page_options("mxreport.1"),
             help_options([sys.executable,
                           os.path.join(ROOT, "reports", "mxreport")]))

    def test_mxrun_options(self):
        same("mxrun", page_options("mxrun.1"),
             help_options([sys.executable,
                           os.path.join(ROOT, "harness", "runner", "mxrun")]))

    def test_profile_keys(self):
        s = sections("mxsim-profile.5")
        prof = "provider: x\nmx_hosts: [mx.x.test]\n"
        same("profile keys", set(page_terms(s["PROFILE KEYS"])),
             loader_keys(self.mxsim, prof + "bogus: 1\n"))
        same("limits keys", set(page_terms(s["LIMITS KEYS"])),
             loader_keys(self.mxsim, prof + "limits: {bogus: 1}\n"))
        same("scenario keys", set(page_terms(s["SCENARIO KEYS"])),
             loader_keys(self.mxsim, "bogus: 1\n"))

    def test_pages_rendered(self):
        built = [os.path.join(self.build, "docs", "man", p) for p in PAGES]
        if not any(os.path.exists(p) for p in built):
            raise Skip("no rendered pages in %s (scdoc missing at setup)"
                       % self.build)
        for p in built:
            with open(p) as f:
                head = f.read(4096)
            name = os.path.basename(p).rsplit(".", 1)
            assert '.TH "%s" "%s"' % (name[0], name[1]) in head, p


if __name__ == "__main__":
    sys.exit(run_suite("man pages", ManSuite))
