"""The scenario runner: start mxsim and the MTA, play the file, judge.

Exit status: 0 every expectation of every run passed, 1 at least one failed
(a crash of mxsim or the MTA is a failure), 2 bad command line or scenario
file (nothing was started), 3 the environment cannot run it (no mxsim
binary, an MTA or adapter missing, no control API for a timeline) and
nothing failed, 130 interrupted.
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
import rn_report
import rn_spec

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))

EXIT_PASS, EXIT_FAIL, EXIT_USAGE, EXIT_ENV = 0, 1, 2, 3


def version():
    """mxsim's version, from the VERSION file meson reads too: the data
    directory's when installed (datadir/mxsim/runner/..), else the source
    tree's root."""
    for top in (os.path.dirname(HERE), REPO):
        try:
            with open(os.path.join(top, "VERSION")) as f:
                return f.read().strip()
        except OSError:
            continue
    return "unknown"


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
    for dom, (ips, _node) in spec.mta["routes"].items():
        r[dom] = " ".join("%s:%d" % (ip, port) for ip in ips)
    return r


def apply_action(mx, act, source_ip):
    """Send one timeline action; return None or an error text."""
    a, k = act["args"], act["action"]
    if a.get("ip") == "source":
        a = dict(a, ip=source_ip)
    p = a["provider"]
    if k == "limits":
        req = ("PATCH", "/v1/providers/%s/limits" % p, a["set"])
    elif k == "outage":
        req = ("PUT", "/v1/providers/%s/outage" % p, {"duration_s": a["for"]})
    elif k == "outage_end":
        req = ("DELETE", "/v1/providers/%s/outage" % p, None)
    elif "ip" in a:
        req = ("PUT", "/v1/reputation/ip/%s/%s" % (p, a["ip"]), {"score": a["score"]})
    else:
        req = ("PUT", "/v1/reputation/domain/%s/%s" % (p, a["domain"]), {"score": a["score"]})
    try:
        st, body = mx.control(*req)
    except rn_mxsim.MxsimError as e:
        return "%s %s: %s" % (req[0], req[1], e)
    if not 200 <= st < 300:
        return "%s %s -> HTTP %d %s" % (req[0], req[1], st, str(body)[:200])
    return None


def describe(act):
    a = {k: v for k, v in act["args"].items() if not k.endswith("_nodes")}
    return "%s %s" % (act["action"], " ".join("%s=%s" % kv for kv in a.items()))


def parse_args(argv):
    ap = argparse.ArgumentParser(
        prog="mxrun",
        description="Run retry-logic scenarios: a real MTA sends through "
        "mxsim's simulated providers while a timeline throttles them; then "
        "check that every message was delivered or bounced with a DSN, none "
        "lost or duplicated, with the expected deferrals and retries.",
        epilog="exit status: 0 all expectations passed, 1 a check failed or a "
        "process crashed, 2 bad arguments or scenario file, 3 environment "
        "cannot run it (and nothing failed), 130 interrupted.  Format: "
        "harness/runner/README.md")
    ap.add_argument("scenario", nargs="+", help="runner scenario YAML")
    ap.add_argument("-V", "--version", action="version",
                    version="mxrun " + version(), help="print the version")
    ap.add_argument("--build", default=None,
                    help="meson build directory with sim/mxsim (default: %s, "
                    "or installed, the mxsim beside mxrun)" % os.path.join(REPO, "build"))
    ap.add_argument("--keep", action="store_true",
                    help="keep the work directory (configs, logs, event log)")
    ap.add_argument("--verbose", "-v", action="store_true",
                    help="print injections, timeline actions and progress")
    ap.add_argument("--check", action="store_true",
                    help="validate the scenario files (and their mxsim scenarios), "
                    "warn about profile limits the time scale makes unreachable, exit")
    names = ", ".join(sorted(rn_adapter.known_settings()))
    ap.add_argument("--mta", metavar="NAME",
                    help="run with this adapter instead of the file's mta.adapter (%s)" % names)
    ap.add_argument("--matrix", metavar="A,B,...",
                    help="run every file with each of these adapters and print "
                    "scenario x MTA (%s)" % names)
    ap.add_argument("--repeat", type=int, default=1, metavar="N",
                    help="run each scenario N times; report flaky expectations by name")
    ap.add_argument("--junit", metavar="FILE", help="write JUnit XML results to FILE")
    ap.add_argument("--json", metavar="FILE", help="write JSON results to FILE")
    args = ap.parse_args(argv)
    if args.mta and args.matrix:
        ap.error("--mta and --matrix exclude each other")
    if args.repeat < 1:
        ap.error("--repeat must be at least 1")
    return args


def mxsim_binary(build):
    """BUILD/sim/mxsim; without --build, the source tree's build/sim/mxsim,
    or for an installed mxrun (its modules in datadir/mxsim/runner, no
    sim/ beside them) the mxsim in the folder of the mxrun command."""
    if build is None and not os.path.isfile(os.path.join(REPO, "sim", "main.c")):
        return os.path.join(os.path.dirname(os.path.abspath(sys.argv[0])), "mxsim")
    return os.path.join(os.path.abspath(build or os.path.join(REPO, "build")),
                        "sim", "mxsim")


def adapters_for(args, spec):
    if args.matrix:
        return [a.strip() for a in args.matrix.split(",") if a.strip()]
    return [args.mta or spec.mta["adapter"]]


# Messages a second one MTA session can carry on loopback, for --check: a
# deliberately generous simulator choice, so that a warning means the limit
# is out of reach, not merely hard to reach.
SESSION_RATE = 50.0
WINDOWS = {"minute": 60.0, "hour": 3600.0, "day": 86400.0}


def lint(spec, world, adapter):
    """Warnings about profile limits that the time scale and the MTA's
    concurrency and schedule make unreachable or invisible."""
    out = []
    scale = spec.mxsim["time_scale"]
    try:
        cls = rn_adapter.load(adapter)
    except rn_adapter.AdapterError:
        return out
    conc = cls.concurrency(spec.mta["settings"].get(adapter, {}))
    sched = rn_adapter.Schedule(**spec.mta["retry"])
    ceiling = conc * SESSION_RATE
    sent = {}                   # provider -> messages the file injects to it
    for d in spec.injections:
        dom = d["to"].rsplit("@", 1)[1].lower()
        for prov, p in world.providers.items():
            if dom in p["domains"]:
                sent[prov] = sent.get(prov, 0) + d["count"]
    for prov, p in sorted(world.providers.items()):
        if prov not in sent:
            continue
        for scope, lim in sorted((p.get("limits") or {}).items()):
            # every message of a run has its own recipients and Message-ID:
            # those counters never pass 1
            if scope in ("per_recipient", "per_message_id") or not (
                    isinstance(lim, dict) and isinstance(lim.get("messages"), dict)):
                continue
            for win, n in sorted(lim["messages"].items()):
                if win not in WINDOWS or not n or sent[prov] < n:
                    continue        # off, or more than the file ever sends
                real = WINDOWS[win] / scale
                need = n / real
                where = "%s limits.%s.messages.%s = %s" % (prov, scope, win, n)
                if need > ceiling:
                    out.append("%s at time scale %g is %g messages in %.3g real s "
                               "(%.0f/s); %s sends at most %d sessions x %g/s = %.0f/s: "
                               "unreachable" % (where, scale, n, real, need, adapter,
                                                conc, SESSION_RATE, ceiling))
                elif real < sched.min_backoff:
                    out.append("%s at time scale %g lasts %.3g real s, less than the "
                               "MTA's min_backoff %gs: a message it defers is retried "
                               "after the window has passed" % (where, scale, real,
                                                                 sched.min_backoff))
    return out


def prepare(spec, args, binary, datadir, has_control, workdir):
    """Write and check the mxsim scenario; (scen, world) or an error text."""
    try:
        scen, world = rn_mxsim.prepare(spec, workdir, datadir)
        rn_mxsim.check(binary, scen)
    except (rn_mxsim.MxsimError, OSError) as e:
        return None, str(e)
    for act in spec.timeline:
        p = act["args"].get("provider")
        if p is not None and p not in world.providers:
            return None, "%s: no provider '%s' in the mxsim scenario (have: %s)" % (
                mark(act["node"]), p, ", ".join(sorted(world.providers)))
    for c in spec.expect.get("concurrency", []) + spec.expect.get("accepted_rate", []):
        if c["provider"] not in world.providers:
            return None, "%s: no provider '%s' in the mxsim scenario" % (
                mark(c["node"]), c["provider"])
    if "sink" not in world.providers and "*" not in spec.mta["routes"]:
        return None, ("%s: no 'sink' provider and no mta.routes '*': DSNs would "
                      "have nowhere to go" % spec.path)
    return (scen, world), None


def main(argv=None):
    args = parse_args(argv)
    out = sys.stdout
    specs = []
    for path in args.scenario:
        try:
            specs.append((path, rn_spec.load(path)))
        except rn_spec.SpecError as e:
            sys.stderr.write("mxrun: %s\n" % e)
            return EXIT_USAGE
    known = rn_adapter.known_settings()
    for path, spec in specs:
        for a in adapters_for(args, spec):
            if a not in known:
                sys.stderr.write("mxrun: %s: unknown adapter '%s' (known: %s)\n" % (
                    "--matrix" if args.matrix else "--mta", a, ", ".join(sorted(known))))
                return EXIT_USAGE
    binary = mxsim_binary(args.build)
    if not os.access(binary, os.X_OK):
        sys.stderr.write("mxrun: no mxsim binary at %s (build it: ninja -C %s)\n"
                         % (binary, os.path.dirname(os.path.dirname(binary))))
        return EXIT_ENV
    datadir, has_control = rn_mxsim.binary_info(binary)
    old = {s: signal.signal(s, _on_signal) for s in (signal.SIGTERM, signal.SIGHUP)}
    results = []
    try:
        if args.check:
            return check_all(specs, args, binary, datadir, has_control)
        for path, spec in specs:
            for adapter in adapters_for(args, spec):
                for rep in range(1, args.repeat + 1):
                    r = rn_report.Result(spec.name, spec.path, adapter, rep)
                    results.append(r)
                    t0 = time.monotonic()
                    try:
                        r.rc = run_one(spec, args, adapter, binary, datadir,
                                       has_control, r)
                    finally:
                        r.seconds = time.monotonic() - t0
                    if r.rc == EXIT_USAGE:
                        return EXIT_USAGE
    except (KeyboardInterrupt, Stop):
        sys.stderr.write("mxrun: interrupted; everything started was stopped\n")
        if results and results[-1].rc is None:
            results[-1].rc, results[-1].error = 130, "interrupted"
        finish(results, args, 130)
        return 130
    finally:
        for s, h in old.items():
            signal.signal(s, h)
    rcs = [r.rc for r in results]
    rc = (EXIT_FAIL if any(c not in (EXIT_PASS, EXIT_ENV) for c in rcs)
          else EXIT_ENV if EXIT_ENV in rcs else EXIT_PASS)
    finish(results, args, rc)
    return rc


def finish(results, args, rc):
    """The matrix (several runs) and the CI files."""
    if len(results) > 1:
        sys.stdout.write("mxrun: %d runs\n" % len(results))
        rn_report.matrix(results, sys.stdout)
    if args.junit:
        rn_report.junit(results, args.junit)
    if args.json:
        rn_report.as_json(results, rc, args.json)


def check_all(specs, args, binary, datadir, has_control):
    """--check: validate every file, print lint warnings; never start anything."""
    rc = EXIT_PASS
    for path, spec in specs:
        workdir = tempfile.mkdtemp(prefix="mxrun-check-")
        try:
            got, err = prepare(spec, args, binary, datadir, has_control, workdir)
        finally:
            shutil.rmtree(workdir, ignore_errors=True)
        if err:
            sys.stderr.write("mxrun: %s\n" % err)
            return EXIT_USAGE
        warnings = []
        for a in adapters_for(args, spec):
            try:
                rn_adapter.load(a)
            except rn_adapter.AdapterError as e:
                sys.stderr.write("mxrun: %s: environment cannot run it: %s\n" % (path, e))
                rc = EXIT_ENV
                continue
            warnings += [w for w in lint(spec, got[1], a) if w not in warnings]
        for w in warnings:
            sys.stdout.write("mxrun: %s: warning: %s\n" % (path, w))
        sys.stdout.write("mxrun: %s: OK%s%s\n" % (
            path, " (%d warnings)" % len(warnings) if warnings else "",
            "" if has_control or not needs_control(spec)
            else " (its timeline needs an mxsim with --control)"))
    return rc


def run_one(spec, args, adapter, binary, datadir, has_control, res):
    """One run of SPEC with ADAPTER; fills RES; returns the exit status."""
    out = sys.stdout
    try:
        rn_adapter.load(adapter)
    except rn_adapter.AdapterError as e:
        res.error = "environment cannot run it: %s" % e
        sys.stderr.write("mxrun: %s: %s\n" % (spec.name, res.error))
        return EXIT_ENV
    if needs_control(spec) and not has_control:
        res.error = ("%s: the timeline needs mxsim's control API, which %s lacks "
                     "(no --control in --help)" % (mark(spec.timeline[0]["node"]), binary))
        sys.stderr.write("mxrun: %s\n" % res.error)
        return EXIT_ENV
    workdir = tempfile.mkdtemp(prefix="mxrun-%s-%s-" % (spec.name.replace("/", "_"), adapter))
    os.chmod(workdir, 0o755)
    keep = args.keep
    rc = None
    try:
        got, err = prepare(spec, args, binary, datadir, has_control, workdir)
        if err:
            sys.stderr.write("mxrun: %s\n" % err)
            rc = EXIT_USAGE
            return rc
        rc = run(spec, args, adapter, binary, got[0], got[1], workdir,
                 needs_control(spec), res)
        return rc
    finally:
        if rc not in (EXIT_PASS, EXIT_USAGE):
            keep = True
        if keep:
            res.workdir = workdir
            out.write("mxrun: work directory kept: %s\n" % workdir)
        else:
            shutil.rmtree(workdir, ignore_errors=True)


def attempted(mta, groups, msgs):
    """Whether every recipient of GROUPS (among injected MSGS) has had a
    delivery attempt, by the adapter's attempts() or else its log's states."""
    att = mta.attempts()
    if att is None:
        att = mta.outcomes()
    want = [r.lower() for m in msgs if m.group in groups for r in m.rcpts]
    return bool(want) and all(att.get(r) for r in want)


def run(spec, args, adapter, binary, scen, world, workdir, control, res):
    out = sys.stdout
    vb = args.verbose
    scale = spec.mxsim["time_scale"]
    msgs = build_messages(spec)
    mx = rn_mxsim.Mxsim(binary, scen, workdir, scale, spec.mxsim["seed"],
                        spec.mxsim["args"], control)
    mta = None
    facts = {"adapter": adapter, "crash": None, "queue": -1, "ended": "", "control_errors": [],
             "time_scale": scale, "t0_ms": 0, "waits": [], "shifts": []}
    injected = []
    try:
        try:
            mx.start()
            if control:
                mx.wait_control()
        except rn_mxsim.MxsimError as e:
            res.error = str(e)
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
            res.error = "environment cannot run it: %s: %s" % (adapter, e)
            sys.stderr.write("mxrun: %s: %s\n" % (adapter, e))
            return EXIT_ENV
        out.write("mxrun: %s: mxsim on port %d (x%g), %s from %s, work %s\n" % (
            spec.name, mx.port, scale, adapter, spec.mta["source_ip"], workdir))
        steps = [(d["at"], 0, i, None) for i, d in enumerate(spec.injections)]
        steps += [(a["at"], 1, i, a) for i, a in enumerate(spec.timeline)]
        # at one time: waits first (they hold what comes at that time too),
        # then injections, then the other timeline actions
        steps.sort(key=lambda s: (s[0], -1 if s[3] is not None and
                                  s[3]["action"] == "wait" else s[1], s[2]))
        t0 = time.monotonic()
        facts["t0_ms"] = time.time() * 1000.0
        shift = 0.0                 # simulated seconds waits held the plan back
        waiting = None              # (step, sim time the wait began)
        empty_polls = 0
        last_note = 0.0
        while True:
            now = (time.monotonic() - t0) * scale
            while steps and steps[0][0] + shift <= now and waiting is None:
                at, kind, i, act = steps[0]
                if kind == 1 and act["action"] == "wait":
                    waiting = (act, now)
                    break
                steps.pop(0)
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
            if waiting is not None:
                act, since = waiting
                a = act["args"]
                met = ((not a.get("queue_empty") or q == 0) and
                       (not a.get("attempted") or attempted(mta, a["attempted"], injected)))
                what = "wait at %s (%s)" % (fmt_t(act["at"]), describe_wait(a))
                if met:
                    held = max(0.0, now - (act["at"] + shift))
                    shift += held
                    facts["shifts"].append((act["at"], held))
                    facts["waits"].append((what, True, "after %s sim" % fmt_t(held)))
                    if vb:
                        out.write("  [%8s sim] %s met\n" % (fmt_t(now), what))
                    steps.pop(0)
                    waiting = None
                    continue
                if now >= spec.duration:
                    facts["waits"].append((what, False, "not met by the end (%s)"
                                           % fmt_t(spec.duration)))
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
            if steps and waiting is None:
                pause = min(pause, max(0.0, (steps[0][0] + shift - now) / scale))
            time.sleep(pause)
        facts["queue"] = mta.queue_size()
    finally:
        if mta is not None:
            mta.stop()
        mx.stop()
    try:
        log = rn_evlog.load(mx.events)
    except OSError as e:
        res.error = "cannot read the event log: %s" % e
        sys.stderr.write("mxrun: %s\n" % res.error)
        return EXIT_FAIL
    rows = rn_expect.evaluate(spec, injected, log, mta.outcomes(), facts,
                              mta.attempts(), mta.retry_floor())
    res.rows = rows
    failed = sum(1 for r in rows if not r.ok)
    out.write("mxrun: %s: %d messages, %d events, %s, %s\n" % (
        spec.name, len(injected), log.events, adapter, facts["ended"] or "stopped"))
    rn_expect.table(rows, out)
    out.write("mxrun: %s: %s (%d of %d checks failed)\n" % (
        spec.name, "FAIL" if failed else "PASS", failed, len(rows)))
    return EXIT_FAIL if failed else EXIT_PASS


def needs_control(spec):
    """Whether the timeline changes mxsim (anything but waits)."""
    return any(a["action"] != "wait" for a in spec.timeline)


def describe_wait(a):
    parts = []
    if a.get("queue_empty"):
        parts.append("MTA queue empty")
    if a.get("attempted"):
        parts.append("%s attempted" % ",".join(a["attempted"]))
    return " and ".join(parts)
