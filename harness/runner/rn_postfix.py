"""Postfix adapter: a private Postfix instance in a temporary directory.

Nothing of the system instance is used or touched: the instance has its own
main.cf and master.cf in WORKDIR/etc, its queue in WORKDIR/queue, its data in
WORKDIR/data and its log in WORKDIR/log/maillog (postlogd, no syslog).
master(8) runs in the foreground (-d) in its own process group, so stop()
can end it and every child even if Postfix misbehaves.  Mail is injected
with "sendmail -C WORKDIR/etc"; there is no inet listener.  Every domain
goes through transport_maps (texthash, no postmap) to "[IP]:PORT" of mxsim,
from smtp_bind_address.  Retry timers are real seconds (settings).
"""
import os
import pwd
import re
import signal
import subprocess
import time

import rn_routes
from rn_adapter import Adapter, AdapterError

SBIN = "/usr/sbin"
DAEMONS = "/usr/lib/postfix/sbin"

# Timeouts short enough for CI; the retry timers come from the Schedule.
DEFAULTS = {
    "smtp_connect_timeout": "5s",
    "smtp_helo_timeout": "10s",
}


def schedule_cf(sch):
    """main.cf parameters of an rn_adapter.Schedule (Postfix timers take
    whole seconds; a sub-second value is rounded up, never to 0)."""
    def sec(x):
        return "%ds" % max(1, int(-(-x // 1)))
    return {
        "minimal_backoff_time": sec(sch.min_backoff),
        "maximal_backoff_time": sec(sch.max_backoff),
        "queue_run_delay": sec(sch.queue_run),
        "maximal_queue_lifetime": sec(sch.lifetime),
        "bounce_queue_lifetime": sec(sch.lifetime),
    }

MASTER_CF = """\
# service type  private unpriv  chroot  wakeup  maxproc command
pickup    unix  n       -       n       60      1       pickup
cleanup   unix  n       -       n       -       0       cleanup
qmgr      unix  n       -       n       300     1       qmgr
rewrite   unix  -       -       n       -       -       trivial-rewrite
bounce    unix  -       -       n       -       0       bounce
defer     unix  -       -       n       -       0       bounce
trace     unix  -       -       n       -       0       bounce
verify    unix  -       -       n       -       1       verify
flush     unix  n       -       n       1000?   0       flush
proxymap  unix  -       -       n       -       -       proxymap
smtp      unix  -       -       n       -       -       smtp
relay     unix  -       -       n       -       -       smtp
showq     unix  n       -       n       -       -       showq
error     unix  -       -       n       -       -       error
retry     unix  -       -       n       -       -       error
discard   unix  -       -       n       -       -       discard
anvil     unix  -       -       n       -       1       anvil
scache    unix  -       -       n       -       1       scache
postlog   unix-dgram n  -       n       -       1       postlogd
tlsmgr    unix  -       -       n       1000?   1       tlsmgr
"""

QUEUES = ("maildrop", "incoming", "active", "deferred", "hold")

# "QID: to=<rcpt>, ... status=WORD (text)" and "QID: from=<s>, status=expired"
RE_TO = re.compile(r" ([0-9A-Za-z]+): to=<([^>]*)>,.*? status=(\w+)(?: \((.*)\))?$")
RE_EXPIRED = re.compile(r" ([0-9A-Za-z]+): from=<([^>]*)>, status=expired")
RE_DELAY = re.compile(r", delay=([0-9.]+),")
RE_QID_MSGID = re.compile(r" ([0-9A-Za-z]+): message-id=<([^>]*)>")
RE_NDR = re.compile(r" ([0-9A-Za-z]+): sender non-delivery notification: ([0-9A-Za-z]+)")


class Postfix(Adapter):
    """One private Postfix instance."""

    name = "postfix"

    def __init__(self, workdir, source_ip, routes, settings, schedule=None):
        super().__init__(workdir, source_ip, routes, settings, schedule)
        self.etc = os.path.join(workdir, "etc")
        self.queue = os.path.join(workdir, "queue")
        self.logdir = os.path.join(workdir, "log")
        self.master = None
        self.arrival = {}       # message token -> epoch seconds before sendmail
        # command prefix for master(8) and so every daemon, e.g.
        # ["ip", "netns", "exec", NAME] (that execs, keeping the pid)
        self.wrap = []

    # configuration -----------------------------------------------------

    def main_cf(self):
        """The text of main.cf."""
        w = self.workdir
        conf = {
            "compatibility_level": "3.6",
            "queue_directory": self.queue,
            "data_directory": os.path.join(w, "data"),
            "mail_owner": "postfix",
            "setgid_group": "postdrop",
            "syslog_name": "mxrun-postfix",
            "maillog_file": os.path.join(self.logdir, "maillog"),
            "maillog_file_prefixes": self.logdir,
            "myhostname": "mta.mxrun.test",
            "mydomain": "mxrun.test",
            "myorigin": "$myhostname",
            "mydestination": "",
            "local_transport": "error:local delivery is disabled",
            "relayhost": "",
            "inet_interfaces": "loopback-only",
            "inet_protocols": "ipv4",
            "smtp_bind_address": self.source_ip,
            "transport_maps": "texthash:" + os.path.join(self.etc, "transport"),
            "smtp_tls_security_level": "none",
            "smtp_dns_support_level": "disabled",
            "alias_maps": "",
            "alias_database": "",
            "biff": "no",
            "notify_classes": "",
        }
        conf.update(DEFAULTS)
        conf.update(schedule_cf(self.schedule))
        conf.update({k: str(v) for k, v in self.settings.items()})
        return "".join("%s = %s\n" % kv for kv in conf.items())

    def transport(self):
        """The text of the transport table (texthash)."""
        lines = []
        for dom, hostport in self.routes.items():
            lines.append("%s smtp:%s\n" % (dom, ", ".join(
                "[%s]:%d" % h for h in rn_routes.hosts(hostport))))
        return "".join(lines)

    def _run(self, argv, inp=None, timeout=30):
        try:
            p = subprocess.run(argv, input=inp, capture_output=True,
                               text=True, timeout=timeout)
        except (OSError, subprocess.TimeoutExpired) as e:
            raise AdapterError("%s: %s" % (argv[0], e))
        if p.returncode != 0:
            raise AdapterError("%s failed (rc %d): %s" % (
                " ".join(argv[:3]), p.returncode,
                (p.stderr or p.stdout).strip()[-600:]))
        return p.stdout

    # interface ---------------------------------------------------------

    def start(self):
        if not os.path.exists(os.path.join(SBIN, "postfix")):
            raise AdapterError(
                "Postfix is not installed: echo 'postfix postfix/main_mailer_type "
                "select No configuration' | debconf-set-selections; "
                "DEBIAN_FRONTEND=noninteractive apt-get install -y postfix")
        if os.geteuid() != 0:
            raise AdapterError("the private Postfix instance needs root (postfix -c "
                               "and sendmail -C without alternate_config_directories)")
        for d in (self.etc, self.queue, self.logdir,
                  os.path.join(self.workdir, "data")):
            os.makedirs(d, exist_ok=True)
        os.chmod(self.workdir, 0o755)
        with open(os.path.join(self.etc, "main.cf"), "w") as f:
            f.write(self.main_cf())
        with open(os.path.join(self.etc, "master.cf"), "w") as f:
            f.write(MASTER_CF)
        with open(os.path.join(self.etc, "transport"), "w") as f:
            f.write(self.transport())
        os.chmod(self.logdir, 0o755)
        pw = pwd.getpwnam("postfix")
        os.chown(os.path.join(self.workdir, "data"), pw.pw_uid, pw.pw_gid)
        # check creates the queue subdirectories with the right owners
        # postconf names configuration errors that "postfix check" hides
        self._run([os.path.join(SBIN, "postconf"), "-c", self.etc, "-n"])
        self._run([os.path.join(SBIN, "postfix"), "-c", self.etc, "check"])
        self.master = subprocess.Popen(
            self.wrap + [os.path.join(DAEMONS, "master"), "-c", self.etc,
                         "-d"],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
            stderr=open(os.path.join(self.logdir, "master.stderr"), "w"),
            start_new_session=True)
        # ready once master has started its queue manager (pid file + fifo)
        deadline = time.time() + 20
        fifo = os.path.join(self.queue, "public", "qmgr")
        while not os.path.exists(fifo):
            if self.master.poll() is not None or time.time() > deadline:
                why = self.alive() or "no qmgr fifo after 20 s"
                self.stop()
                raise AdapterError("postfix master did not start: " + why)
            time.sleep(0.05)

    def inject(self, msg):
        argv = [os.path.join(SBIN, "sendmail"), "-C", self.etc, "-i",
                "-f", msg.sender, "--"] + msg.rcpts
        self.arrival[msg.token] = time.time()
        self._run(argv, inp=msg.render())

    def queue_size(self):
        n = 0
        for q in QUEUES:
            for _root, _dirs, files in os.walk(os.path.join(self.queue, q)):
                n += len(files)
        return n

    def flush(self):
        self._run([os.path.join(SBIN, "postqueue"), "-c", self.etc, "-f"])

    def alive(self):
        if self.master is None:
            return "not started"
        rc = self.master.poll()
        if rc is not None:
            try:
                with open(os.path.join(self.logdir, "master.stderr")) as f:
                    err = f.read().strip().splitlines()[-1:]
            except OSError:
                err = []
            return "postfix master exited with status %d%s" % (
                rc, (": " + err[0]) if err else "")
        return None

    def stop(self):
        if self.master is None:
            return
        if self.master.poll() is None:
            try:
                os.killpg(self.master.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
            try:
                self.master.wait(timeout=10)
            except subprocess.TimeoutExpired:
                pass
        # children that outlived master (same process group)
        try:
            os.killpg(self.master.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        if self.master.returncode is None:
            self.master.wait()

    def log_path(self):
        return os.path.join(self.logdir, "maillog")

    def _log_lines(self):
        """The lines of the MTA's log without their newline; none if absent."""
        try:
            with open(self.log_path(), errors="replace") as f:
                return [l.rstrip("\n") for l in f]
        except OSError:
            return []

    def outcomes(self):
        """Final state per recipient from the log, plus DSN queue ids.

        Returns {rcpt: {"status": last status, "sent": n sent lines,
        "qids": [...]}}; a message that expires marks each of its
        not-yet-sent recipients "expired".
        """
        res = {}
        by_qid = {}
        for line in self._log_lines():
            m = RE_TO.search(line)
            if m:
                qid, rcpt, status = m.group(1), m.group(2).lower(), m.group(3)
                r = res.setdefault(rcpt, {"status": None, "sent": 0,
                                          "qids": []})
                if qid not in r["qids"]:
                    r["qids"].append(qid)
                by_qid.setdefault(qid, set()).add(rcpt)
                if r["status"] != "sent" or status == "sent":
                    r["status"] = status
                if status == "sent":
                    r["sent"] += 1
                continue
            m = RE_EXPIRED.search(line)
            if m:
                for rcpt in by_qid.get(m.group(1), ()):
                    if res[rcpt]["status"] != "sent":
                        res[rcpt]["status"] = "expired"
        return res

    def attempts(self):
        """{rcpt: [epoch seconds]}: one entry per status=sent/deferred/bounced
        line, which Postfix logs once per recipient per delivery attempt
        (after every MX host tried).  Deferrals without an attempt ("delivery
        temporarily suspended": qmgr skipped a destination it marked dead)
        are left out.  The time is the message's arrival (just before
        sendmail ran) plus the line's delay= (time since arrival), so the
        interval between two attempts of a message is the difference of two
        delay values, as precise as Postfix logs them (two significant
        digits: 0.1 s below 10 s, 1 s from 10 s to 100 s)."""
        res = {}
        token_of = {}       # qid -> message token (Message-ID <token@mxrun.test>)
        for line in self._log_lines():
            m = RE_QID_MSGID.search(line)
            if m:
                token_of[m.group(1)] = m.group(2).split("@")[0]
                continue
            m = RE_TO.search(line)
            if not m or m.group(3) not in ("sent", "deferred", "bounced"):
                continue
            if "delivery temporarily suspended" in (m.group(4) or ""):
                continue
            d = RE_DELAY.search(line)
            t0 = self.arrival.get(token_of.get(m.group(1)))
            if d is None or t0 is None:
                continue        # a DSN or other message mxrun did not inject
            res.setdefault(m.group(2).lower(), []).append(t0 + float(d.group(1)))
        return res

    def retry_floor(self):
        """qmgr stamps a deferred file's mtime with its whole-second clock
        plus the backoff, and a deferred-queue scan takes every file whose
        mtime is at most one second in the future, so a retry may come up to
        two seconds before min_backoff has passed (seen: 0.1 s with 2 s).
        One more second for the measurement: delay= has two significant
        digits (whole seconds from 10 s on)."""
        return max(0.0, self.schedule.min_backoff - 3.0)

    @classmethod
    def concurrency(cls, settings):
        v = settings.get("smtp_destination_concurrency_limit",
                         settings.get("default_destination_concurrency_limit", "20"))
        try:
            return int(v)
        except ValueError:
            return 20


ADAPTER = Postfix
