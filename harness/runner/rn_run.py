"""The scenario runner: start mxsim and the MTA, play the file, judge.

Exit status: 0 every expectation passed, 1 at least one failed (a crash of
mxsim or the MTA is a failure), 2 bad command line or scenario file (nothing
was started), 3 the environment cannot run it (no mxsim binary, no MTA, no
control API for a timeline).
"""
import argparse
import os
import shutil
import signal
import sys
import tempfile
import time

import rn_adapter
import rn_evlog
import rn_expect
import rn_mxsim
import rn_spec

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))

EXIT_PASS, EXIT_FAIL, EXIT_USAGE, EXIT_ENV = 0, 1, 2, 3


class Stop(Exception):
    """SIGTERM/SIGHUP received: clean up like Ctrl-C."""


def _on_signal(signum, _frame):
    raise Stop("signal %d" % signum)


def mark(node):
    m = node.start_mark
    return "%s:%d:%d" % (m.name, m.line + 1, m.column + 1)


def fmt_t(sec):
    if sec >= 3600:
        return "%dh%02dm%02ds" % (sec // 3600, sec % 3600 // 60, sec % 60)
    if sec >= 60:
        return "%dm%02ds" % (sec // 60, sec % 60)
    return "%.1fs" % sec


def build_messages(spec):
    """{injection index: [Message]} with unique addresses."""
    out = []
    for d in spec.injections:
        ms = []
        for n in range(d["count"]):
            tok = "%s-%04d" % (d["group"], n)
            rc = [d["to"].format(id=tok, r=r) for r in range(d["rcpts"])]
            ms.append(rn_adapter.Message(tok, d["group"], d["from"].format(id=tok, r=0),
                                         rc, d["size"]))
        out.append(ms)
    return out


def routes_for(spec, world, port):
    """{domain or '*': 'IP:PORT'} from the providers, then the spec's routes."""
    r = {}
    for name, p in world.providers.items():
        ip = world.route_ip(name)
        for dom in p["domains"]:
            r[dom] = "%s:%d" % (ip, port)
        if name == "sink":
            r.setdefault("*", "%s:%d" % (ip, port))
    for dom, (ip, _node) in spec.mta["routes"].items():
        r[dom] = "%s:%d" % (ip, port)
    return r


def apply_action(mx, act, source_ip):
    """Send one timeline action; return None or an error text."""
    a, k = act["args"], act["action"]
    if a.get("ip") == "source":
        a = dict(a, ip=source_ip)
    p = a["provider"]
    if k == "limits":
        req = ("PATCH", "/providers/%s/limits" % p, a["set"])
    elif k == "outage":
        req = ("PUT", "/providers/%s/outage" % p, {"duration_s": a["for"]})
    elif k == "outage_end":
        req = ("DELETE", "/providers/%s/outage" % p, None)
    elif "ip" in a:
        req = ("PUT", "/reputation/ip/%s/%s" % (p, a["ip"]), {"score": a["score"]})
    else:
        req = ("PUT", "/reputation/domain/%s/%s" % (p, a["domain"]), {"score": a["score"]})
    try:
        st, body = mx.control(*req)
    except rn_mxsim.MxsimError as e:
        return "%s %s: %s" % (req[0], req[1], e)
    if not 200 <= st < 300:
        return "%s %s -> HTTP %d %s" % (req[0], req[1], st, str(body)[:200])
    return None


def describe(act):
    a = dict(act["args"])
    return "%s %s" % (act["action"], " ".join("%s=%s" % kv for kv in a.items()))


def parse_args(argv):
    ap = argparse.ArgumentParser(
        prog="mxrun",
        description="Run a retry-logic scenario: a real MTA (Postfix) sends "
        "through mxsim's simulated providers while a timeline throttles them; "
        "then check that every message was delivered or bounced with a DSN, "
        "none lost or duplicated, with the expected deferrals and retries.",
        epilog="exit status: 0 all expectations passed, 1 a check failed or a "
        "process crashed, 2 bad arguments or scenario file, 3 environment "
        "cannot run it.  Format: harness/runner/README.md")
    ap.add_argument("scenario", help="runner scenario YAML")
    ap.add_argument("--build", default=os.path.join(REPO, "build"),
                    help="meson build directory with sim/mxsim (default: %(default)s)")
    ap.add_argument("--keep", action="store_true",
                    help="keep the work directory (configs, logs, event log)")
    ap.add_argument("--verbose", "-v", action="store_true",
                    help="print injections, timeline actions and progress")
    ap.add_argument("--mta", metavar="NAME",
                    help="run with this adapter instead of the file's mta.adapter "
                    "(%s)" % ", ".join(sorted(rn_adapter.known_settings())))
    ap.add_argument("--check", action="store_true",
                    help="validate the scenario file (and its mxsim scenario) and exit")
    return ap.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    out = sys.stdout
    try:
        spec = rn_spec.load(args.scenario)
    except rn_spec.SpecError as e:
        sys.stderr.write("mxrun: %s\n" % e)
        return EXIT_USAGE
    if args.mta and args.mta not in rn_adapter.known_settings():
        sys.stderr.write("mxrun: --mta: unknown adapter '%s' (known: %s)\n" % (
            args.mta, ", ".join(sorted(rn_adapter.known_settings()))))
        return EXIT_USAGE
    try:
        rn_adapter.load(args.mta or spec.mta["adapter"])
    except rn_adapter.AdapterError as e:
        sys.stderr.write("mxrun: environment cannot run it: %s\n" % e)
        return EXIT_ENV
    binary = os.path.join(os.path.abspath(args.build), "sim", "mxsim")
    if not os.access(binary, os.X_OK):
        sys.stderr.write("mxrun: no mxsim binary at %s (build it: ninja -C %s)\n"
                         % (binary, args.build))
        return EXIT_ENV
    datadir, has_control = rn_mxsim.binary_info(binary)
    if spec.timeline and not has_control and not args.check:
        sys.stderr.write("mxrun: %s: the timeline needs mxsim's control API, "
                         "which %s lacks (no --control in --help)\n"
                         % (mark(spec.timeline[0]["node"]), binary))
        return EXIT_ENV
    workdir = tempfile.mkdtemp(prefix="mxrun-%s-" % spec.name.replace("/", "_"))
    os.chmod(workdir, 0o755)
    keep = args.keep
    old = {s: signal.signal(s, _on_signal) for s in (signal.SIGTERM, signal.SIGHUP)}
    try:
        try:
            scen, world = rn_mxsim.prepare(spec, workdir, datadir)
            rn_mxsim.check(binary, scen)
        except (rn_mxsim.MxsimError, OSError) as e:
            sys.stderr.write("mxrun: %s\n" % e)
            return EXIT_USAGE
        for act in spec.timeline:
            if act["args"]["provider"] not in world.providers:
                sys.stderr.write("mxrun: %s: no provider '%s' in the mxsim scenario "
                                 "(have: %s)\n" % (mark(act["node"]), act["args"]["provider"],
                                                   ", ".join(sorted(world.providers))))
                return EXIT_USAGE
        for c in spec.expect.get("concurrency", []):
            if c["provider"] not in world.providers:
                sys.stderr.write("mxrun: %s: no provider '%s' in the mxsim scenario\n"
                                 % (mark(c["node"]), c["provider"]))
                return EXIT_USAGE
        if "sink" not in world.providers and "*" not in spec.mta["routes"]:
            sys.stderr.write("mxrun: %s: no 'sink' provider and no mta.routes '*': "
                             "DSNs would have nowhere to go\n" % spec.path)
            return EXIT_USAGE
        if args.check:
            out.write("mxrun: %s: OK%s\n" % (args.scenario, "" if has_control or not spec.timeline
                                               else " (its timeline needs an mxsim with --control)"))
            return EXIT_PASS
        rc = run(spec, args, binary, scen, world, workdir, has_control and bool(spec.timeline))
        if rc != EXIT_PASS:
            keep = True
        return rc
    except (KeyboardInterrupt, Stop):
        sys.stderr.write("mxrun: interrupted; everything started was stopped\n")
        keep = True
        return 130
    finally:
        for s, h in old.items():
            signal.signal(s, h)
        if keep:
            out.write("mxrun: work directory kept: %s\n" % workdir)
        else:
            shutil.rmtree(workdir, ignore_errors=True)


def run(spec, args, binary, scen, world, workdir, control):
    out = sys.stdout
    adapter = args.mta or spec.mta["adapter"]
    vb = args.verbose
    scale = spec.mxsim["time_scale"]
    msgs = build_messages(spec)
    mx = rn_mxsim.Mxsim(binary, scen, workdir, scale, spec.mxsim["seed"],
                        spec.mxsim["args"], control)
    mta = None
    facts = {"crash": None, "queue": -1, "ended": "", "control_errors": [],
             "time_scale": scale, "t0_ms": 0}
    injected = []
    try:
        try:
            mx.start()
            if control:
                mx.wait_control()
        except rn_mxsim.MxsimError as e:
            sys.stderr.write("mxrun: %s\n" % e)
            return EXIT_ENV
        routes = routes_for(spec, world, mx.port)
        try:
            mta = rn_adapter.make(adapter, os.path.join(workdir, "mta"),
                                  spec.mta["source_ip"], routes,
                                  spec.mta["settings"].get(adapter, {}),
                                  rn_adapter.Schedule(**spec.mta["retry"]))
            mta.start()
        except rn_adapter.AdapterError as e:
            sys.stderr.write("mxrun: %s: %s\n" % (adapter, e))
            return EXIT_ENV
        out.write("mxrun: %s: mxsim on port %d (x%g), %s from %s, work %s\n" % (
            spec.name, mx.port, scale, adapter, spec.mta["source_ip"],
            workdir))
        steps = [(d["at"], 0, i, None) for i, d in enumerate(spec.injections)]
        steps += [(a["at"], 1, i, a) for i, a in enumerate(spec.timeline)]
        steps.sort(key=lambda s: (s[0], s[1], s[2]))
        t0 = time.monotonic()
        facts["t0_ms"] = time.time() * 1000.0
        empty_polls = 0
        last_note = 0.0
        while True:
            now = (time.monotonic() - t0) * scale
            while steps and steps[0][0] <= now:
                at, kind, i, act = steps.pop(0)
                if kind == 0:
                    for m in msgs[i]:
                        mta.inject(m)
                        injected.append(m)
                    if vb:
                        out.write("  [%8s sim] inject %s x%d\n" % (
                            fmt_t(now), spec.injections[i]["group"], len(msgs[i])))
                else:
                    err = apply_action(mx, act, spec.mta["source_ip"])
                    if vb or err:
                        out.write("  [%8s sim] %s%s\n" % (fmt_t(now), describe(act),
                                                        (": " + err) if err else ""))
                    if err:
                        facts["control_errors"].append(("at %s: %s" % (
                            fmt_t(at), act["action"]), err))
            why = mx.alive() or mta.alive()
            if why:
                facts["crash"] = why
                facts["ended"] = "stopped at %s sim" % fmt_t(now)
                tail = mx.tail() if mx.alive() else mta.tail()
                out.write("mxrun: %s; last log lines:\n%s" % (
                    why, "".join("    " + l for l in tail)))
                break
            q = mta.queue_size()
            if vb and time.monotonic() - last_note >= 5:
                last_note = time.monotonic()
                out.write("  [%8s sim] queue %d\n" % (fmt_t(now), q))
            if not steps:
                empty_polls = empty_polls + 1 if q == 0 else 0
                if empty_polls >= 3:
                    facts["ended"] = "drained at %s sim" % fmt_t(now)
                    break
            if now >= spec.duration:
                facts["ended"] = "duration %s reached" % fmt_t(spec.duration)
                break
            pause = 0.25
            if steps:
                pause = min(pause, max(0.0, (steps[0][0] - now) / scale))
            time.sleep(pause)
        facts["queue"] = mta.queue_size()
    finally:
        if mta is not None:
            mta.stop()
        mx.stop()
    try:
        log = rn_evlog.load(mx.events)
    except OSError as e:
        sys.stderr.write("mxrun: cannot read the event log: %s\n" % e)
        return EXIT_FAIL
    rows = rn_expect.evaluate(spec, injected, log, mta.outcomes(), facts)
    failed = sum(1 for r in rows if not r.ok)
    out.write("mxrun: %s: %d messages, %d events, %s\n" % (
        spec.name, len(injected), log.events, facts["ended"] or "stopped"))
    rn_expect.table(rows, out)
    out.write("mxrun: %s: %s (%d of %d checks failed)\n" % (
        spec.name, "FAIL" if failed else "PASS", failed, len(rows)))
    return EXIT_FAIL if failed else EXIT_PASS
