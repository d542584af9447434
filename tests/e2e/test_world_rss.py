#!/usr/bin/env python3
"""World lifetime end to end: a real mxsim on loopback takes thousands of
PATCH /providers/gmail/limits (each publishes a new world) while mxload
sends real transactions to it and one SMTP session, opened before the
first change, stays open across all of them.  Worlds nobody holds any more
must be freed: mxsim's resident memory (VmRSS, /proc/PID/status) may not
grow by 5 MB or more over 10,000 changes, and the held session keeps
answering with valid texts.

Under an ASan build the RSS run uses ASAN_OPTIONS quarantine_size_mb=0
(ASan's quarantine otherwise keeps up to 256 MB of freed memory resident)
and measures from the 2,000th change on, once ASan's allocator caches have
filled (they add about 2.5 MB over the first 2,000, then stay flat);
the cleanliness run keeps ASan's defaults (freed memory quarantined, so a
world freed too early is reported) with fewer changes, and both runs
require a clean exit (LeakSanitizer included).

Usage: test_world_rss.py --build BUILD_DIR [TEST_NAME ...]
Prints one line per test and ends with "world: N passed, N failed".
"""
import http.client
import json
import os
import re
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from mxsim_proc import Client, Mxsim, free_ports, run_suite  # noqa: E402

GMAIL_MX = "127.1.0.9"
SINK_MX = "127.0.0.1"
HELD_SOURCE = "127.0.93.1"
LOAD_SOURCES = "127.0.93.16/28"
RSS_PATCHES = 10000
RSS_LIMIT_KB = 5 * 1024
CLEAN_PATCHES = 1000
WARMUP_PATCHES = 200
ASAN_WARMUP_PATCHES = 2000  # ASan's allocator caches fill over the first ~2,000
NOOP_EVERY = 500            # keeps the held session well inside its idle timeout


def rss_kb(pid):
    """VmRSS of a process in kB."""
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise RuntimeError("no VmRSS for pid %d" % pid)


def is_asan(binary):
    """Is the binary linked against ASan's runtime (gcc links it dynamically)?"""
    p = subprocess.run(["ldd", binary], capture_output=True, text=True)
    return "libasan" in p.stdout


class Suite:
    def __init__(self, build):
        self.mxsim_bin = os.path.join(build, "sim", "mxsim")
        self.mxload_bin = os.path.join(build, "harness", "mxload")
        self.asan = is_asan(self.mxsim_bin)
        self.results = []

    def start(self, port, cport, asan_options):
        """mxsim (2 workers, --control) with extra ASAN_OPTIONS for it alone."""
        saved = os.environ.get("ASAN_OPTIONS")
        if asan_options:
            os.environ["ASAN_OPTIONS"] = ":".join(o for o in (saved, asan_options) if o)
        try:
            return Mxsim(self.mxsim_bin, ["--workers", "2", "-q", "--control",
                                          "127.0.0.1:%d" % cport], port)
        finally:
            if saved is None:
                os.environ.pop("ASAN_OPTIONS", None)
            else:
                os.environ["ASAN_OPTIONS"] = saved

    def churn(self, patches, warmup, asan_options=None):
        """Run `warmup` then `patches` limit changes under load; returns
        (rss before, rss after) the `patches` in kB."""
        port, cport = free_ports(2)
        m = self.start(port, cport, asan_options)
        load = None
        try:
            held = Client(GMAIL_MX, port, HELD_SOURCE)      # opened in the first world
            assert held.greeting[0] == 220, held.greeting
            first = held.message("h@auth.example", "held0@gmail.com")
            assert first[:2] == ("eod", 250), first
            load_json = os.path.join(m.dir, "load.json")
            load = subprocess.Popen(
                [self.mxload_bin, "-t", "sink=%s:%d" % (SINK_MX, port),
                 "-s", LOAD_SOURCES, "-n", "0", "-c", "4", "-m", "5", "-r", "200",
                 "-q", "--json", load_json],
                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            api = http.client.HTTPConnection("127.0.0.1", cport, timeout=30)

            def patch(i):
                body = {"connections_per_ip": 20 + i % 7,
                        "per_ip": {"messages": {"minute": 1000 + i % 100}}}
                api.request("PATCH", "/v1/providers/gmail/limits", json.dumps(body),
                            {"Content-Type": "application/json"})
                r = api.getresponse()
                data = r.read()
                assert r.status == 200, (r.status, data)
                return json.loads(data)

            def counters():
                api.request("GET", "/v1/counters")
                r = api.getresponse()
                return json.loads(r.read())

            # warm up: traffic flowing (bounded wait), allocator arenas grown
            deadline = time.time() + 60
            while counters()["providers"]["sink"]["messages"] < 20:
                assert load.poll() is None, load.communicate()
                assert time.time() < deadline, "mxload sent nothing"
                time.sleep(0.1)
            for i in range(warmup):
                patch(i)
            before = rss_kb(m.proc.pid)
            sent0 = counters()["providers"]["sink"]["messages"]
            for i in range(patches):
                last = patch(i)
                if i % NOOP_EVERY == 0:
                    code, text = held.cmd("NOOP")
                    assert code == 250, (code, text)
            after = rss_kb(m.proc.pid)
            want = 1000 + (patches - 1) % 100
            assert last["per_ip"]["messages"]["minute"] == want, last
            assert counters()["providers"]["sink"]["messages"] > sent0, \
                "no transaction while the changes ran"

            # the session opened before every change still answers, with
            # its own (first) world's texts
            r = held.message("h@auth.example", "held1@gmail.com")
            assert r[:2] == ("eod", 250), r
            assert re.match(rb"2\.0\.0 OK [\x20-\x7e]+$", r[2]), r
            held.close()
            fresh = Client(GMAIL_MX, port, "127.0.93.2")
            r2 = fresh.message("h@auth.example", "fresh@gmail.com")
            assert r2[:2] == ("eod", 250), r2
            fresh.close()

            load.send_signal(signal.SIGINT)
            out, err = load.communicate(timeout=120)
            load = None
            with open(load_json) as f:
                res = json.load(f)
            text = json.dumps(res)
            m_acc = re.search(r'"accepted": (\d+)', text)
            assert m_acc and int(m_acc.group(1)) > 0, text[:800]
            assert not re.search(r'"errors?": [1-9]', text), text[:800]
            api.close()
        finally:
            if load is not None:
                load.kill()
                load.wait()
            rc, out, err = m.stop()
        assert rc == 0, err[-4000:]
        assert "Sanitizer" not in err and "runtime error" not in err, err[-4000:]
        return before, after

    # -- tests --------------------------------------------------------------

    def test_rss_10000_patches(self):
        """10,000 PATCHes under traffic: VmRSS grows by less than 5 MB."""
        if self.asan:
            before, after = self.churn(RSS_PATCHES, ASAN_WARMUP_PATCHES,
                                       "quarantine_size_mb=0")
        else:
            before, after = self.churn(RSS_PATCHES, WARMUP_PATCHES)
        growth = after - before
        print("    VmRSS %d kB -> %d kB after %d PATCHes (%+d kB)%s" % (
            before, after, RSS_PATCHES, growth,
            ", ASan without quarantine" if self.asan else ""), flush=True)
        assert growth < RSS_LIMIT_KB, (before, after)

    def test_patches_clean(self):
        """1,000 PATCHes under traffic with ASan's defaults: clean exit."""
        before, after = self.churn(CLEAN_PATCHES, WARMUP_PATCHES)
        print("    VmRSS %d kB -> %d kB after %d PATCHes" % (
            before, after, CLEAN_PATCHES), flush=True)


if __name__ == "__main__":
    sys.exit(run_suite("world", Suite))
