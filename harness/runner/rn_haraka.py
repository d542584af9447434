"""Haraka adapter: a private Haraka (npm) as an outbound MTA.

Haraka is installed once into the cache by rn_provision (npm, no global
install).  The instance lives in WORKDIR: config/ (smtp.ini, outbound.ini,
log.ini, me, mxrun.json), plugins/mxrun.js (rn_haraka_plugin.js), queue/
and haraka.log.  It listens on 127.0.0.1 at a free port; messages go in
over SMTP from 127.0.0.1, which the plugin lets relay, so Haraka queues
them for outbound delivery.  The plugin's get_mx hook gives each domain
its MX hosts from the routes (in order: primary, then fallbacks), each
bound to source_ip (Haraka's get_mx "bind"), and it appends each delivery
result to WORKDIR/events.jsonl, which outcomes() and attempts() read.

Haraka retries per message on timers (there is no queue runner, so
Schedule.queue_run does not apply) after each temporary failure, waiting
the next entry of outbound.ini temp_fail_intervals; when the list is used
up the next temporary failure bounces ("Too many failures": expired).  The
list is min_backoff doubling up to max_backoff until it covers lifetime.
Haraka refuses intervals under 5 s, so min_backoff is raised to 5 s.
STARTTLS is Haraka's default (opportunistic).

Settings (mta.settings.haraka): outbound.NAME: VALUE sets outbound.ini
(e.g. outbound.concurrency_max: 4, outbound.enable_tls: false),
smtp.NAME smtp.ini [main], tls.NAME tls.ini [outbound].
"""
import json
import math
import os
import shutil
import smtplib
import subprocess
import time

import rn_pgroup
import rn_provision
import rn_results
import rn_routes
from rn_adapter import Adapter, AdapterError
from rn_mxsim import free_port

HERE = os.path.dirname(os.path.abspath(__file__))
PLUGIN = os.path.join(HERE, "rn_haraka_plugin.js")
FLOOR = 5          # Haraka rejects shorter temp_fail_intervals
INJECTOR = "127.0.0.1"
CONCURRENCY_MAX = 10000  # Haraka's outbound concurrency_max when unset


def intervals(schedule):
    """temp_fail_intervals text: min doubling to max, covering lifetime."""
    lo = max(FLOOR, int(math.ceil(schedule.min_backoff)))
    hi = max(lo, int(math.ceil(schedule.max_backoff)))
    steps, total, d = [], 0, lo
    while total < schedule.lifetime or not steps:
        steps.append(d)
        total += d
        d = min(hi, d * 2)
    runs = []
    for s in steps:
        if runs and runs[-1][0] == s:
            runs[-1][1] += 1
        else:
            runs.append([s, 1])
    return ",".join("%ds" % s if n == 1 else "%ds*%d" % (s, n) for s, n in runs)


def ini(sections):
    """INI text of {section: {key: value}}."""
    out = []
    for sec, kv in sections.items():
        out.append("[%s]\n" % sec)
        out += ["%s=%s\n" % (k, v) for k, v in kv.items()]
    return "".join(out)


class Haraka(Adapter):
    """One private Haraka instance."""

    name = "haraka"

    def __init__(self, workdir, source_ip, routes, settings, schedule=None):
        super().__init__(workdir, source_ip, routes, settings, schedule)
        self.cfg = os.path.join(workdir, "config")
        self.queue = os.path.join(workdir, "queue")
        self.events = os.path.join(workdir, "events.jsonl")
        self.log = os.path.join(workdir, "haraka.log")
        self.proc = None
        self.port = None
        self.prefix = None

    # configuration -----------------------------------------------------

    def _native(self, prefix):
        n = len(prefix) + 1
        return {k[n:]: str(v) for k, v in self.settings.items()
                if k.startswith(prefix + ".")}

    def files(self):
        """{relative path: text} of the instance's configuration."""
        unknown = [k for k in self.settings
                   if k.split(".")[0] not in ("outbound", "smtp", "tls")]
        if unknown:
            raise AdapterError("haraka settings must be outbound.NAME, smtp.NAME "
                               "or tls.NAME, not '%s'" % unknown[0])
        routes = {}
        for dom, val in self.routes.items():
            try:
                routes[dom.lower()] = rn_routes.hosts(val)
            except ValueError as e:
                raise AdapterError(str(e))
        smtp = {"listen": "%s:%d" % (INJECTOR, self.port), "nodes": "0",
                "daemonize": "false", "graceful_shutdown": "false"}
        smtp.update(self._native("smtp"))
        outbound = {"temp_fail_intervals": intervals(self.schedule),
                    "received_header": "Haraka outbound (mxrun)"}
        outbound.update(self._native("outbound"))
        return {
            "config/smtp.ini": ini({"main": smtp}),
            "config/outbound.ini": ini({"main": outbound}),
            "config/tls.ini": ini({"outbound": self._native("tls")}),
            "config/log.ini": ini({"main": {"level": "info", "timestamps": "true",
                                            "format": "default"}}),
            "config/me": "mta.mxrun.test\n",
            "config/host_list": "",
            "config/plugins": "mxrun\n",
            "config/mxrun.json": json.dumps({
                "routes": routes, "bind": self.source_ip,
                "injectors": [INJECTOR], "events": self.events}, indent=1) + "\n",
        }

    def _haraka(self, *args):
        return ["node", os.path.join(self.prefix, "node_modules", "Haraka", "bin",
                                     "haraka"), "-c", self.workdir] + list(args)

    # interface ---------------------------------------------------------

    def start(self):
        self.prefix = rn_provision.haraka()
        for d in (self.cfg, self.queue, os.path.join(self.workdir, "plugins")):
            os.makedirs(d, exist_ok=True)
        self.port = free_port()
        # Haraka's own defaults for every file not written below
        shutil.copytree(os.path.join(self.prefix, "node_modules", "Haraka", "config"),
                        self.cfg, dirs_exist_ok=True)
        for rel, text in self.files().items():
            with open(os.path.join(self.workdir, rel), "w") as f:
                f.write(text)
        shutil.copyfile(PLUGIN, os.path.join(self.workdir, "plugins", "mxrun.js"))
        open(self.events, "a").close()
        self.proc = subprocess.Popen(
            self._haraka(), stdin=subprocess.DEVNULL,
            stdout=open(self.log, "w"), stderr=subprocess.STDOUT,
            start_new_session=True)
        deadline = time.time() + 30
        while not self._listening():
            if self.proc.poll() is not None or time.time() > deadline:
                why = self.alive() or "not listening after 30 s"
                self.stop()
                raise AdapterError("haraka did not start: " + why)
            time.sleep(0.1)

    def _listening(self):
        """Whether our port is in LISTEN state (no probe connection)."""
        want = ":%04X " % self.port
        try:
            with open("/proc/net/tcp") as f:
                return any(want in l and l.split()[3] == "0A" for l in f)
        except OSError:
            return False

    def inject(self, msg):
        try:
            with smtplib.SMTP(INJECTOR, self.port, local_hostname="inject.mxrun.test",
                              timeout=30) as s:
                s.sendmail(msg.sender, msg.rcpts, msg.render().encode())
        except (OSError, smtplib.SMTPException) as e:
            raise AdapterError("injecting %s into haraka: %s" % (msg.token, e))

    def queue_size(self):
        try:
            return len(os.listdir(self.queue))
        except OSError:
            return 0

    def flush(self):
        try:
            subprocess.run(self._haraka("--qunstick", "true"), capture_output=True,
                           timeout=30)
        except (OSError, subprocess.TimeoutExpired) as e:
            raise AdapterError("haraka --qunstick: %s" % e)

    def alive(self):
        if self.proc is None:
            return "not started"
        rc = self.proc.poll()
        if rc is None:
            return None
        last = self.tail(1)
        return "haraka exited with status %d%s" % (
            rc, (": " + last[0].strip()) if last else "")

    def stop(self):
        if self.proc is not None:
            rn_pgroup.stop(self.proc)

    def log_path(self):
        return self.log

    @classmethod
    def concurrency(cls, settings):
        # outbound.ini concurrency_max bounds deliveries in progress, to all
        # destinations together
        try:
            return int(settings.get("outbound.concurrency_max", CONCURRENCY_MAX))
        except ValueError:
            return CONCURRENCY_MAX

    def retry_floor(self):
        return float(max(FLOOR, int(math.ceil(self.schedule.min_backoff))))

    def _results(self):
        try:
            f = open(self.events, errors="replace")
        except OSError:
            return
        with f:
            for line in f:
                try:
                    yield json.loads(line)
                except ValueError:
                    continue      # a line cut by a kill

    def outcomes(self):
        """{rcpt: {"status", "sent": n, "qids": [message uuids]}}."""
        res = {}
        for e in self._results():
            for rcpt in e["rcpts"]:
                rn_results.note(res, rcpt, e["id"], e["ev"])
        return res

    def attempts(self):
        """{rcpt: [epoch of each attempt]}: one result per attempt, whatever
        MX hosts it tried."""
        res = {}
        for e in self._results():
            for rcpt in e["rcpts"]:
                res.setdefault(rcpt, []).append(e["t"])
        return res


ADAPTER = Haraka
