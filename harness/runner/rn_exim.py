"""Exim adapter: a private Exim 4 instance in the work directory.

The binary is Debian's, unpacked privately by rn_provision (never installed:
it would remove Postfix) and copied with its private library into
WORKDIR/exim (the delivery processes, which run as Debian-exim, re-execute
it, and the cache may be in root's closed home).  The instance has its own
configuration (WORKDIR/exim.conf, used with -C), spool (WORKDIR/spool) and
logs (WORKDIR/spool/log/mainlog); no system Exim is configured or started.
Messages go in with "exim -C CONF -odb" (Exim's default for a local
submission: a delivery process forked at once); what it defers, the
daemon's queue runner (-bdf -qNs, foreground, its own process group) tries
again, starting a run every Schedule.queue_run seconds.  One manualroute
router sends each domain to its MX hosts (IP::PORT, in order: the first is
the primary, the next ones fallbacks) from interface = source_ip; the rest
("*": the senders' domains, so DSNs) goes to the sink.  The Schedule becomes a
geometric retry rule (min_backoff doubling, capped by retry_interval_max =
max_backoff, cut off after lifetime).  STARTTLS is Exim's default:
opportunistic, certificates not required to verify.

Settings (mta.settings.exim): NAME: VALUE sets a main-section option (e.g.
remote_max_parallel: 4, queue_run_max: 2); smtp.NAME: VALUE an option of the
smtp transport (e.g. smtp.hosts_require_tls: "*"); retry: a list of retry
rules replacing the generated one.
"""
import calendar
import math
import os
import pwd
import re
import signal
import subprocess
import time

import rn_pgroup
import rn_provision
import rn_results
import rn_routes
from rn_adapter import Adapter, AdapterError
from rn_mxsim import free_port

LOG_SELECTOR = ("+smtp_protocol_error +smtp_syntax_error +tls_cipher "
                "+smtp_confirmation +deliver_time +outgoing_interface "
                "+outgoing_port +millisec +queue_time")

# "2026-12-07 03:40:00.123 1tXyz-000abc-AB => rcpt@dom R=... T=..."
RE_LINE = re.compile(r"^(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d)(\.\d+)? "
                     r"([0-9A-Za-z]{6}-[0-9A-Za-z]{6,11}-[0-9A-Za-z]{2,4}) "
                     r"(=>|->|\*\*|==) (\S+)(.*)$")
QUEUE_RUN_MAX = "5"
UNLIMITED = 10000          # concurrency() when nothing bounds it
STATUS = {"=>": "sent", "->": "sent", "**": "bounced", "==": "deferred"}


def secs(x):
    """Exim time value: whole seconds, at least 1."""
    return "%ds" % max(1, int(math.ceil(x)))


class Exim(Adapter):
    """One private Exim instance."""

    name = "exim"

    def __init__(self, workdir, source_ip, routes, settings, schedule=None):
        super().__init__(workdir, source_ip, routes, settings, schedule)
        self.conf = os.path.join(workdir, "exim.conf")
        self.spool = os.path.join(workdir, "spool")
        self.logdir = os.path.join(self.spool, "log")
        self.copy = None
        self.daemon = None
        self.helpers = []        # queue runs started by flush()
        self.port = None

    # configuration -----------------------------------------------------

    def main_options(self):
        """Main-section options, defaults then settings."""
        s = self.schedule
        opts = {
            "exim_path": self.copy.binary,
            "exim_user": rn_provision.EXIM_USER,
            "exim_group": rn_provision.EXIM_USER,
            "deliver_drop_privilege": "true",
            "trusted_users": "root",
            "spool_directory": self.spool,
            "log_file_path": os.path.join(self.logdir, "%slog"),
            "pid_file_path": os.path.join(self.workdir, "exim.pid"),
            "primary_hostname": "mta.mxrun.test",
            "qualify_domain": "mxrun.test",
            "keep_environment": "LD_LIBRARY_PATH",
            "timezone": "UTC",
            "log_selector": LOG_SELECTOR,
            "daemon_smtp_ports": str(self.port),
            "local_interfaces": "127.0.0.1",
            "tls_advertise_hosts": "",
            "host_lookup": "",
            "rfc1413_hosts": "",
            "retry_interval_max": secs(s.max_backoff),
            "timeout_frozen_after": secs(s.lifetime),
            "ignore_bounce_errors_after": secs(s.lifetime),
            "delay_warning": "0s",
            "remote_max_parallel": "2",
            "queue_run_max": QUEUE_RUN_MAX,
        }
        for k, v in self.settings.items():
            if not k.startswith("smtp.") and k != "retry":
                opts[k] = str(v)
        return opts

    def route_list(self):
        """manualroute route_list: each domain, then "*", to IP::PORT hosts."""
        items = []
        for dom in sorted(self.routes, key=lambda d: (d == "*", d)):
            try:
                hs = rn_routes.hosts(self.routes[dom])
            except ValueError as e:
                raise AdapterError(str(e))
            items.append('%s "%s"' % (dom, " : ".join("%s::%d" % h for h in hs)))
        return " ; ".join(items)

    def smtp_options(self):
        opts = {
            "driver": "smtp",
            "interface": self.source_ip,
            "connect_timeout": "5s",
            "command_timeout": "30s",
            "data_timeout": "30s",
        }
        for k, v in self.settings.items():
            if k.startswith("smtp."):
                opts[k[5:]] = str(v)
        return opts

    def retry_rules(self):
        r = self.settings.get("retry")
        if r is not None:
            return list(r) if isinstance(r, list) else [str(r)]
        s = self.schedule
        return ["* * G,%s,%s,2" % (secs(s.lifetime), secs(s.min_backoff))]

    def config(self):
        """The text of exim.conf."""
        out = ["# generated by mxrun (rn_exim): a private instance\n"]
        out += ["%s = %s\n" % kv for kv in self.main_options().items()]
        out.append("\nbegin routers\nmx:\n  driver = manualroute\n"
                   "  route_list = %s\n  transport = remote_smtp\n"
                   "  self = send\n" % self.route_list())
        out.append("\nbegin transports\nremote_smtp:\n")
        out += ["  %s = %s\n" % kv for kv in self.smtp_options().items()]
        out.append("  allow_localhost\n")
        out.append("\nbegin retry\n")
        out += ["%s\n" % r for r in self.retry_rules()]
        return "".join(out)

    def _exim(self, *args):
        return [self.copy.binary, "-C", self.conf] + list(args)

    def _run(self, argv, inp=None, timeout=30):
        try:
            p = subprocess.run(argv, input=inp, capture_output=True, text=True,
                               timeout=timeout, env=self.copy.env())
        except (OSError, subprocess.TimeoutExpired) as e:
            raise AdapterError("%s: %s" % (argv[0], e))
        if p.returncode != 0:
            raise AdapterError("exim %s failed (rc %d): %s" % (
                " ".join(argv[3:5]), p.returncode,
                (p.stderr or p.stdout).strip()[-600:]))
        return p.stdout

    # interface ---------------------------------------------------------

    def start(self):
        self.copy = rn_provision.exim().clone(os.path.join(self.workdir, "exim"))
        pw = pwd.getpwnam(rn_provision.EXIM_USER)
        for d in (self.workdir, self.spool, self.logdir):
            os.makedirs(d, exist_ok=True)
        os.chmod(self.workdir, 0o755)
        for d in (self.spool, self.logdir):
            os.chown(d, pw.pw_uid, pw.pw_gid)
        self.port = free_port()
        with open(self.conf, "w") as f:
            f.write(self.config())
        # -bV reads the whole configuration and names its errors
        self._run(self._exim("-bV"))
        pid_file = os.path.join(self.workdir, "exim.pid")
        self.daemon = subprocess.Popen(
            self._exim("-bdf", "-q" + secs(self.schedule.queue_run)),
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
            stderr=open(os.path.join(self.workdir, "daemon.stderr"), "w"),
            env=self.copy.env(), start_new_session=True)
        deadline = time.time() + 20
        while not os.path.exists(pid_file):
            if self.daemon.poll() is not None or time.time() > deadline:
                why = self.alive() or "no pid file after 20 s"
                self.stop()
                raise AdapterError("exim daemon did not start: " + why)
            time.sleep(0.05)

    def inject(self, msg):
        # Exim's default for a local submission (-odb): a delivery process
        # forked at once, as Postfix and Haraka try new mail at once; the
        # queue runner retries what it defers.  Its stdout and stderr are
        # not pipes, so that the forked delivery cannot hold them open.
        argv = self._exim("-odb", "-oi", "-f", msg.sender, "--", *msg.rcpts)
        err = os.path.join(self.workdir, "inject.stderr")
        try:
            with open(err, "w") as ef:
                p = subprocess.run(argv, input=msg.render(), stdout=subprocess.DEVNULL,
                                   stderr=ef, text=True, timeout=30,
                                   env=self.copy.env())
        except (OSError, subprocess.TimeoutExpired) as e:
            raise AdapterError("exim: %s" % e)
        if p.returncode != 0:
            with open(err, errors="replace") as f:
                raise AdapterError("exim -odb failed for %s (rc %d): %s" % (
                    msg.token, p.returncode, f.read().strip()[-600:]))

    def queue_size(self):
        try:
            names = os.listdir(os.path.join(self.spool, "input"))
        except OSError:
            return 0
        return sum(1 for n in names if n.endswith("-H"))

    def flush(self):
        if self.daemon is None or self.daemon.poll() is not None:
            raise AdapterError("exim is not running")
        # a forced queue run in its own process group (a group of another
        # session cannot be joined), stopped with the daemon
        self.helpers = [p for p in self.helpers if p.poll() is None]
        self.helpers.append(subprocess.Popen(
            self._exim("-qf"), stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            env=self.copy.env(), start_new_session=True))

    def alive(self):
        if self.daemon is None:
            return "not started"
        rc = self.daemon.poll()
        if rc is None:
            return None
        err = []
        for name in (os.path.join(self.workdir, "daemon.stderr"),
                     os.path.join(self.logdir, "paniclog")):
            try:
                with open(name, errors="replace") as f:
                    err += f.read().strip().splitlines()[-1:]
            except OSError:
                pass
        return "exim daemon exited with status %d%s" % (
            rc, (": " + err[-1]) if err else "")

    def _ours(self):
        """PIDs of processes running our binary with our configuration."""
        pids = []
        for d in os.listdir("/proc"):
            if not d.isdigit():
                continue
            try:
                with open("/proc/%s/cmdline" % d, "rb") as f:
                    argv = f.read().split(b"\0")
            except OSError:
                continue
            if self.conf.encode() in argv and argv[0].endswith(b"exim4"):
                pids.append(int(d))
        return pids

    def stop(self):
        if self.daemon is None:
            return
        for p in [self.daemon] + self.helpers:
            rn_pgroup.stop(p)
        self.helpers = []
        # deliveries that left the groups (Exim starts some with setsid)
        for pid in self._ours():
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass

    def log_path(self):
        return os.path.join(self.logdir, "mainlog")

    @classmethod
    def concurrency(cls, settings):
        # with queue_only every delivery comes from a queue runner, one
        # message at a time each; otherwise each submitted message gets its
        # own delivery process at once: no per-destination limit
        if str(settings.get("queue_only", "false")).lower() in ("true", "yes", "1"):
            try:
                return int(settings.get("queue_run_max", QUEUE_RUN_MAX))
            except ValueError:
                return int(QUEUE_RUN_MAX)
        return UNLIMITED

    def retry_floor(self):
        # retry times are whole seconds, compared with a truncated clock
        return max(0.0, math.ceil(self.schedule.min_backoff) - 1.0)

    def _events(self):
        """(epoch, message id, marker, rcpt, rest) of each delivery line."""
        try:
            f = open(self.log_path(), errors="replace")
        except OSError:
            return
        with f:
            for line in f:
                m = RE_LINE.match(line.rstrip("\n"))
                if not m:
                    continue
                t = calendar.timegm(time.strptime(m.group(1), "%Y-%m-%d %H:%M:%S"))
                t += float(m.group(2) or 0)
                # "rcpt:" before a bounce's reason
                rcpt = m.group(5).rstrip(":").lower()
                yield t, m.group(3), m.group(4), rcpt, m.group(6)

    def outcomes(self):
        """{rcpt: {"status", "sent": n, "qids": [...]}} from the mainlog; a
        bounce for a timed-out retry is "expired"."""
        res = {}
        for _t, qid, mark, rcpt, rest in self._events():
            st = STATUS[mark]
            if st == "bounced" and "retry timeout exceeded" in rest:
                st = "expired"
            rn_results.note(res, rcpt, qid, st)
        return res

    def attempts(self):
        """{rcpt: [epoch of each attempt]}: one delivery process's result line
        per attempt, whatever hosts it tried.  Not attempts: "retry time not
        reached" (skipped) and "retry timeout exceeded" (the bounce at the
        cutoff; an attempt that came first logged its own "==" line)."""
        res = {}
        for t, _qid, _mark, rcpt, rest in self._events():
            if "retry time not reached" in rest or "retry timeout exceeded" in rest:
                continue
            res.setdefault(rcpt, []).append(t)
        return res


ADAPTER = Exim
