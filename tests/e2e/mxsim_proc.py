"""Start and stop a real mxsim process for end-to-end tests."""
import os
import signal
import socket
import subprocess
import tempfile
import time


class Mxsim:
    """An mxsim process on loopback; stop() returns (rc, stdout, stderr)."""

    def __init__(self, binary, args, port):
        self.dir = tempfile.mkdtemp(prefix="mxsim-e2e-")
        self.ready = os.path.join(self.dir, "ready")
        self.events = os.path.join(self.dir, "events.jsonl")
        self.port = port
        cmd = [binary, "--port", str(port), "--event-log", self.events,
               "--ready-file", self.ready] + list(args)
        self.out = open(os.path.join(self.dir, "stdout"), "w+")
        self.err = open(os.path.join(self.dir, "stderr"), "w+")
        self.proc = subprocess.Popen(cmd, stdout=self.out, stderr=self.err,
                                     stdin=subprocess.DEVNULL)
        deadline = time.time() + 30
        while not os.path.exists(self.ready):
            if self.proc.poll() is not None or time.time() > deadline:
                rc, out, err = self.stop()
                raise RuntimeError("mxsim did not start (rc %s): %s" % (rc, err))
            time.sleep(0.05)

    def stop(self, sig=signal.SIGTERM, timeout=30):
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.out.seek(0)
        self.err.seek(0)
        return self.proc.returncode, self.out.read(), self.err.read()


def free_port():
    """A TCP port free on 127.0.0.1 now (bounded search)."""
    for port in range(26000, 26500):
        s = socket.socket()
        try:
            s.bind(("127.0.0.1", port))
            return port
        except OSError:
            continue
        finally:
            s.close()
    raise RuntimeError("no free port in 26000..26499")
