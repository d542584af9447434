"""MTA adapters: the interface the scenario runner drives.

An adapter owns one private MTA instance in a directory the runner gives it.
The runner calls, in order:

    a = make(name, workdir, source_ip, routes, settings, schedule)
    a.start()                 # configure and start; raise AdapterError on failure
    a.inject(msg)             # hand one message to the MTA (many times)
    a.queue_size()            # messages still queued (any queue), an int
    a.flush()                 # ask for an immediate delivery attempt of the queue
    a.alive()                 # None while running, else a one-line reason
    a.outcomes()              # per-recipient final states from the MTA's log
    a.attempts()              # per-recipient delivery attempt times (or None)
    a.stop()                  # stop everything started; safe to call twice
    a.log_path()              # the MTA's log file, for the report

routes maps a recipient domain (or "*" for everything else) to "IP:PORT"
of mxsim.  settings are the scenario's native overrides for this adapter
only; schedule (a Schedule, real seconds) is the generic retry schedule
every adapter maps to its own configuration.  A Message (below) carries unique addresses so that mxsim's event
log, which stores no bodies, can tell messages apart by recipient.
"""


class AdapterError(Exception):
    """The MTA could not be configured, started, fed or stopped."""


class Schedule:
    """The MTA's retry schedule, in real seconds, the same for every adapter.

    min_backoff: least time between two delivery attempts of a message;
    max_backoff: most time between them; queue_run: how often the queue is
    scanned for messages due; lifetime: how long a message may stay queued
    before it bounces ("expired") with a DSN.  A scenario's mta.retry block
    sets them; each adapter maps them to its own configuration.
    """

    FIELDS = ("min_backoff", "max_backoff", "queue_run", "lifetime")
    DEFAULTS = {"min_backoff": 2.0, "max_backoff": 8.0, "queue_run": 2.0,
                "lifetime": 300.0}

    def __init__(self, **fields):
        for k in fields:
            if k not in self.FIELDS:
                raise TypeError("Schedule: unknown field '%s'" % k)
        for k in self.FIELDS:
            setattr(self, k, float(fields.get(k, self.DEFAULTS[k])))

    def __repr__(self):
        return "Schedule(%s)" % ", ".join("%s=%g" % (k, getattr(self, k))
                                          for k in self.FIELDS)


class Message:
    """One message to inject: an envelope and a small generated body."""

    def __init__(self, token, group, sender, rcpts, size):
        self.token = token      # unique per run, e.g. "auth-0007"
        self.group = group      # injection group name
        self.sender = sender    # envelope sender address
        self.rcpts = list(rcpts)
        self.size = size        # approximate body size in bytes

    def render(self):
        """RFC 5322 text with a Message-ID and the token in the subject."""
        head = ("From: <%s>\r\nTo: %s\r\nSubject: mxrun %s\r\n"
                "Message-ID: <%s@mxrun.test>\r\nX-Mxrun-Token: %s\r\n"
                "MIME-Version: 1.0\r\nContent-Type: text/plain\r\n\r\n"
                % (self.sender, ", ".join("<%s>" % r for r in self.rcpts),
                   self.token, self.token, self.token))
        line = ("mxrun test message %s " % self.token).ljust(76, "x") + "\r\n"
        body = line * max(1, self.size // len(line))
        return head + body


class Adapter:
    """Base class; subclasses implement every method below."""

    name = "?"

    def __init__(self, workdir, source_ip, routes, settings, schedule=None):
        self.workdir = workdir
        self.source_ip = source_ip
        self.routes = dict(routes)
        self.settings = dict(settings)
        self.schedule = schedule if schedule is not None else Schedule()

    def start(self):
        raise NotImplementedError

    def inject(self, msg):
        raise NotImplementedError

    def queue_size(self):
        raise NotImplementedError

    def flush(self):
        raise NotImplementedError

    def alive(self):
        raise NotImplementedError

    def outcomes(self):
        """{recipient: {"status": sent|bounced|expired|deferred, ...}}."""
        raise NotImplementedError

    def attempts(self):
        """{recipient: [epoch seconds of each delivery attempt, ...]} from the
        MTA's log, in order: one entry per delivery attempt as the MTA counts
        it (one attempt may open several sessions or try several MX hosts).
        None (this default) makes the runner count one attempt per mxsim
        session that saw an RCPT of the recipient."""
        return None

    @classmethod
    def concurrency(cls, settings):
        """Most sessions the MTA opens to one destination with these native
        SETTINGS (for mxrun --check)."""
        return 20

    def retry_floor(self):
        """Least real seconds the schedule allows between two attempts of one
        recipient, as this MTA applies it (e.g. whole-second timers)."""
        return self.schedule.min_backoff

    def stop(self):
        raise NotImplementedError

    def log_path(self):
        raise NotImplementedError

    def tail(self, n=15):
        """The last n lines of the MTA's log (for crash reports)."""
        try:
            with open(self.log_path(), errors="replace") as f:
                return f.readlines()[-n:]
        except OSError:
            return []


def known_settings():
    """Adapter names and their modules, imported lazily."""
    return {"postfix": "rn_postfix", "exim": "rn_exim", "haraka": "rn_haraka"}


def load(name):
    """The adapter class NAME; AdapterError if it is unknown or its module
    cannot be imported (the environment cannot run it)."""
    import importlib
    known = known_settings()
    if name not in known:
        raise AdapterError("unknown adapter '%s' (known: %s)"
                           % (name, ", ".join(sorted(known))))
    try:
        mod = importlib.import_module(known[name])
    except ImportError as e:
        raise AdapterError("adapter '%s' is not available here: module %s "
                           "cannot be imported (%s)" % (name, known[name], e))
    cls = getattr(mod, "ADAPTER", None)
    if cls is None:
        raise AdapterError("adapter '%s': module %s has no ADAPTER" % (name, known[name]))
    return cls


def make(name, workdir, source_ip, routes, settings, schedule):
    """Instantiate adapter NAME; AdapterError if it cannot be loaded."""
    return load(name)(workdir, source_ip, routes, settings, schedule)
