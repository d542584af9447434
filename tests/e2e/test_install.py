#!/usr/bin/env python3
"""meson install leaves a working mxsim once the checkout is gone.

A git clone of this tree (its committed HEAD) is configured without tests
or DPDK and built (ninja -j2), installed with meson install --destdir into
an empty folder, and then the clone and its build folder are deleted.  The
installed tree must hold the layout of README.md's "Install" section; the
installed mxsim must have no checkout path in its read-only data, find its
bundled profiles beside itself (--help, --check, and a start without -c on
a free port with the control API; also with its prefix moved, and
$MXSIM_DATADIR overriding), accept one message from smtplib with
250; the installed mxreport and mxrun must find their modules (--help,
--version, a report of the run's event log, mxrun --check with the
installed mxsim); the bash completion must complete mxsim's options.

Usage: test_install.py [--keep] [TEST_NAME ...]
Prints one line per test and ends with "install: N passed, N failed".
"""
import argparse
import json
import os
import shutil
import smtplib
import subprocess
import sys
import tempfile
import time
import traceback
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from mxsim_proc import Mxsim, free_ports  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))
PREFIX = "usr/local"
# What every install holds (README.md, "Install"), under DESTDIR/PREFIX.
LAYOUT = [
    "bin/mxsim", "bin/mxload", "bin/mxreport", "bin/mxrun",
    "share/mxsim/profiles/default.yaml", "share/mxsim/profiles/gmail.yaml",
    "share/mxsim/profiles/README.md",
    "share/mxsim/scenarios/outage.yaml",
    "share/mxsim/scenarios/selftest/mxsim-exits.yaml",
    "share/mxsim/reports/mxreport", "share/mxsim/reports/rpt_agg.py",
    "share/mxsim/reports/templates/head.gp",
    "share/mxsim/runner/mxrun", "share/mxsim/runner/rn_run.py",
    "share/man/man1/mxsim.1", "share/man/man1/mxload.1",
    "share/man/man1/mxreport.1", "share/man/man1/mxrun.1",
    "share/man/man5/mxsim-profile.5",
    "share/doc/mxsim/openapi.json",
    "share/bash-completion/completions/mxsim",
    "share/bash-completion/completions/mxload",
    "share/bash-completion/completions/mxreport",
    "share/bash-completion/completions/mxrun",
    "lib/systemd/system/mxsim@.service",
    "lib/sysusers.d/mxsim.conf", "lib/tmpfiles.d/mxsim.conf",
]


def sh(cmd, timeout=300, **kw):
    """Run CMD; its CompletedProcess, stdout and stderr as text."""
    return subprocess.run(cmd, capture_output=True, text=True,
                          errors="replace", timeout=timeout, **kw)


def ok(r, what):
    assert r.returncode == 0, "%s: rc %d\n%s%s" % (
        what, r.returncode, r.stdout[-2000:], r.stderr[-2000:])
    return r


class InstallSuite:
    """One clone, build and install for every test (setup() runs once)."""

    def __init__(self, keep):
        self.tmp = tempfile.mkdtemp(prefix="mxsim-install-")
        self.keep = keep
        self.dest = os.path.join(self.tmp, "dest")
        self.pre = os.path.join(self.dest, PREFIX)
        self.src = os.path.join(self.tmp, "src")
        self.times = {}

    def setup(self):
        t = time.time()
        ok(sh(["git", "clone", "-q", "--no-hardlinks", ROOT, self.src]),
           "git clone")
        build = os.path.join(self.src, "build")
        ok(sh(["meson", "setup", build, self.src, "-Dtests=disabled",
               "-Ddpdk=disabled", "-Dbuildtype=plain"]), "meson setup")
        self.times["setup"] = time.time() - t
        t = time.time()
        ok(sh(["ninja", "-j2", "-C", build], timeout=900), "ninja")
        self.times["build"] = time.time() - t
        t = time.time()
        ok(sh(["meson", "install", "-C", build, "--no-rebuild", "--quiet",
               "--destdir", self.dest]), "meson install")
        self.times["install"] = time.time() - t
        shutil.rmtree(self.src)
        assert not os.path.exists(self.src)

    def bin(self, name):
        return os.path.join(self.pre, "bin", name)

    def test_layout(self):
        missing = [p for p in LAYOUT
                   if not os.path.exists(os.path.join(self.pre, p))]
        assert not missing, "not installed: %s" % missing
        for p in ("mxreport", "mxrun"):
            assert os.access(self.bin(p), os.X_OK), p
        unit = open(os.path.join(
            self.pre, "lib/systemd/system/mxsim@.service")).read()
        assert "ExecStart=/%s/bin/mxsim --config /etc/mxsim/%%i.yaml" % (
            PREFIX) in unit, unit

    def test_no_checkout_path(self):
        """Neither the clone's path nor this tree's is in mxsim's data."""
        if shutil.which("readelf") is None:
            return
        r = ok(sh(["readelf", "-p", ".rodata", self.bin("mxsim")]),
               "readelf")
        for path in (self.src, ROOT):
            assert path not in r.stdout, "%s in .rodata" % path

    def test_help_names_installed_profiles(self):
        r = ok(sh([self.bin("mxsim"), "--help"], cwd="/"), "mxsim --help")
        want = os.path.join(self.pre, "share", "mxsim", "profiles")
        assert "Bundled profiles are in %s " % want in r.stdout, \
            r.stdout.splitlines()[-1]

    def test_datadir_override_and_moved_prefix(self):
        """$MXSIM_DATADIR names the data root; without it a moved prefix
        still finds its own share/mxsim (nothing configured is used)."""
        env = dict(os.environ, MXSIM_DATADIR="/nonexistent/mxsim-data")
        r = ok(sh([self.bin("mxsim"), "--help"], cwd="/", env=env),
               "mxsim --help")
        assert "Bundled profiles are in /nonexistent/mxsim-data/profiles " \
            in r.stdout, r.stdout.splitlines()[-1]
        moved = os.path.join(self.dest, "moved")
        os.rename(self.pre, moved)
        try:
            r = ok(sh([os.path.join(moved, "bin", "mxsim"), "--help"],
                      cwd="/"), "moved mxsim --help")
            want = os.path.join(moved, "share", "mxsim", "profiles")
            assert "Bundled profiles are in %s " % want in r.stdout, \
                r.stdout.splitlines()[-1]
        finally:
            os.rename(moved, self.pre)

    def test_check_bundled(self):
        prof = os.path.join(self.pre, "share/mxsim/profiles/default.yaml")
        r = ok(sh([self.bin("mxsim"), "--check", prof], cwd="/"),
               "mxsim --check")
        assert r.stdout.startswith(prof + ": OK"), r.stdout

    def test_serve_without_config(self):
        """The bundled scenario (no -c): one message to the sink on
        127.0.0.1, 250; the control API answers; the event log feeds the
        installed mxreport."""
        port, cport = free_ports(2)
        mx = Mxsim(self.bin("mxsim"), ["-q", "-w", "1", "--no-tls",
                                       "--control", "127.0.0.1:%d" % cport],
                   port)
        try:
            with smtplib.SMTP("127.0.0.1", port, timeout=30) as s:
                s.ehlo("install.test")
                r = s.sendmail("a@install.example", ["b@example.net"],
                               "Subject: install\r\n\r\nhello\r\n")
                assert r == {}, r
                code, _ = s.noop()
                assert code == 250
            with urllib.request.urlopen(
                    "http://127.0.0.1:%d/v1/counters" % cport, timeout=30) as h:
                assert h.status == 200
                json.loads(h.read())
        finally:
            rc, out, err = mx.stop()
        assert rc == 0, err
        ev = [json.loads(ln) for ln in open(mx.events)]
        assert any(e["reason"] == "ok.message" and e["code"] == 250
                   for e in ev), ev
        rep = os.path.join(self.tmp, "report")
        ok(sh([self.bin("mxreport"), "--no-plots", "-o", rep, mx.events],
              cwd="/"), "mxreport")
        assert os.path.exists(os.path.join(rep, "index.html"))
        shutil.rmtree(mx.dir, ignore_errors=True)

    def test_python_commands(self):
        for c in ("mxreport", "mxrun"):
            ok(sh([self.bin(c), "--help"], cwd="/"), c + " --help")
        scen = os.path.join(self.pre, "share/mxsim/scenarios/outage.yaml")
        r = ok(sh([self.bin("mxrun"), "--check", scen], cwd="/"),
               "mxrun --check")
        assert "OK" in r.stdout, r.stdout

    def test_versions(self):
        """-V/--version on every command (issue 17's shared option)."""
        for c in ("mxsim", "mxload", "mxreport", "mxrun"):
            r = ok(sh([self.bin(c), "--version"], cwd="/"), c + " --version")
            assert c in r.stdout, r.stdout

    def test_bash_completion(self):
        comp = os.path.join(self.pre,
                            "share/bash-completion/completions/mxsim")
        r = ok(sh(["bash", "-c", 'PATH="$1:$PATH"; source "$2"; '
                   'COMP_WORDS=(mxsim --chec); COMP_CWORD=1; '
                   '_mxsim_complete mxsim --chec mxsim; '
                   'echo "${COMPREPLY[*]}"', "bash",
                   os.path.join(self.pre, "bin"), comp]), "completion")
        assert r.stdout.split() == ["--check"], r.stdout

    def close(self):
        if self.keep:
            print("install: kept %s" % self.tmp)
        else:
            shutil.rmtree(self.tmp, ignore_errors=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--keep", action="store_true")
    ap.add_argument("tests", nargs="*")
    a = ap.parse_args()
    suite = InstallSuite(a.keep)
    t0 = time.time()
    try:
        suite.setup()
    except Exception:
        traceback.print_exc()
        suite.close()
        print("install: 0 passed, 1 failed (clone, build or install)")
        return 1
    print("  clone+setup %.1f s, build %.1f s, install %.1f s" % (
        suite.times["setup"], suite.times["build"], suite.times["install"]))
    names = sorted(n for n in dir(suite) if n.startswith("test_"))
    if a.tests:
        names = [n for n in names if n in a.tests or n[5:] in a.tests]
    passed = failed = 0
    for n in names:
        t = time.time()
        try:
            getattr(suite, n)()
            passed += 1
            print("  %-34s ok (%.1f s)" % (n, time.time() - t), flush=True)
        except Exception:
            failed += 1
            print("  %-34s FAIL" % n, flush=True)
            traceback.print_exc()
    suite.close()
    print("install: %d passed, %d failed (%.0f s in all)" % (
        passed, failed, time.time() - t0))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
