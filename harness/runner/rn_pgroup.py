"""Process groups: each MTA runs in its own (start_new_session=True), so
that stopping it ends every process it started, however it misbehaves."""
import os
import signal
import subprocess


def stop(proc, grace=10):
    """SIGTERM the process group led by PROC, wait up to GRACE seconds for
    PROC, then SIGKILL what is left of the group and reap PROC.  Safe to
    call again once it has returned."""
    if proc.poll() is None:
        try:
            os.killpg(proc.pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
        try:
            proc.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            pass
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    if proc.returncode is None:
        proc.wait()
