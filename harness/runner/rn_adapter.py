"""MTA adapters: the interface the scenario runner drives.

An adapter owns one private MTA instance in a directory the runner gives it.
The runner calls, in order:

    a = ADAPTERS[name](workdir, source_ip, routes, settings)
    a.start()                 # configure and start; raise AdapterError on failure
    a.inject(msg)             # hand one message to the MTA (many times)
    a.queue_size()            # messages still queued (any queue), an int
    a.flush()                 # ask for an immediate delivery attempt of the queue
    a.alive()                 # None while running, else a one-line reason
    a.outcomes()              # per-recipient final states from the MTA's log
    a.stop()                  # stop everything started; safe to call twice
    a.log_path()              # the MTA's log file, for the report

routes maps a recipient domain (or "*" for everything else) to "IP:PORT"
of mxsim.  A Message (below) carries unique addresses so that mxsim's event
log, which stores no bodies, can tell messages apart by recipient.
"""


class AdapterError(Exception):
    """The MTA could not be configured, started, fed or stopped."""


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

    def __init__(self, workdir, source_ip, routes, settings):
        self.workdir = workdir
        self.source_ip = source_ip
        self.routes = dict(routes)
        self.settings = dict(settings)

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
    return {"postfix": "rn_postfix"}


def make(name, *args):
    """Instantiate adapter NAME; KeyError for an unknown one."""
    import importlib
    mod = importlib.import_module(known_settings()[name])
    return mod.ADAPTER(*args)
