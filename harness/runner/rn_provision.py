"""Private copies of MTAs the system must not install, in a cache directory.

Exim: Debian's exim4-daemon-light conflicts with postfix (both provide
mail-transport-agent), so its packages are fetched with "apt-get download"
and unpacked with "dpkg-deb -x"; nothing is installed, configured or started
on the system.  The only system change is the unprivileged user Debian-exim,
whose name is compiled into the binary.  Haraka: "npm install" into its own
prefix.  The cache is $MXSIM_CACHE, else $XDG_CACHE_HOME/mxsim, else
~/.cache/mxsim.  Each copy is finished by writing a stamp file, so a second
call does nothing and prints nothing; a lock file serialises concurrent runs.
"""
import fcntl
import glob
import os
import shutil
import stat
import subprocess
import tempfile

from rn_adapter import AdapterError

EXIM_PACKAGES = ("exim4-daemon-light", "exim4-base", "libidn12")
EXIM_USER = "Debian-exim"
HARAKA_PACKAGE = "Haraka@3.3.4"
STAMP = ".mxrun-complete"


def cache_dir():
    """The cache root, created if missing."""
    root = os.environ.get("MXSIM_CACHE")
    if not root:
        base = os.environ.get("XDG_CACHE_HOME") or os.path.join(
            os.path.expanduser("~"), ".cache")
        root = os.path.join(base, "mxsim")
    os.makedirs(root, exist_ok=True)
    return root


def _run(argv, what, timeout=600, cwd=None):
    """Run ARGV quietly; AdapterError with its last output lines on failure."""
    try:
        p = subprocess.run(argv, capture_output=True, text=True,
                           timeout=timeout, cwd=cwd)
    except (OSError, subprocess.TimeoutExpired) as e:
        raise AdapterError("%s: %s: %s" % (what, argv[0], e))
    if p.returncode != 0:
        raise AdapterError("%s: %s failed (rc %d): %s" % (
            what, " ".join(argv[:3]), p.returncode,
            (p.stderr or p.stdout).strip()[-600:]))
    return p.stdout


class _Locked:
    """An exclusive lock on DIR.lock for the duration of a with block."""

    def __init__(self, path):
        self.path = path + ".lock"
        self.f = None

    def __enter__(self):
        self.f = open(self.path, "w")
        fcntl.flock(self.f, fcntl.LOCK_EX)
        return self

    def __exit__(self, *exc):
        fcntl.flock(self.f, fcntl.LOCK_UN)
        self.f.close()


def _ensure(dest, build):
    """Run BUILD(tmpdir) once to fill DEST; return DEST."""
    if os.path.exists(os.path.join(dest, STAMP)):
        return dest
    with _Locked(dest):
        if os.path.exists(os.path.join(dest, STAMP)):
            return dest
        tmp = tempfile.mkdtemp(prefix=os.path.basename(dest) + ".",
                               dir=os.path.dirname(dest))
        try:
            build(tmp)
            open(os.path.join(tmp, STAMP), "w").close()
            shutil.rmtree(dest, ignore_errors=True)
            os.rename(tmp, dest)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
    return dest


class EximCopy:
    """Paths of an unpacked Exim: the binary and the private library dir."""

    def __init__(self, root):
        self.root = root
        self.binary = os.path.join(root, "usr", "sbin", "exim4")
        self.libdir = os.path.join(root, "usr", "lib", "x86_64-linux-gnu")

    def clone(self, dest):
        """A copy of the binary and its private libraries under DEST (the
        Exim user must reach the binary it re-executes, and a cache in
        root's home is closed to it)."""
        c = EximCopy(dest)
        os.makedirs(os.path.dirname(c.binary), exist_ok=True)
        shutil.copy2(self.binary, c.binary)
        shutil.copytree(self.libdir, c.libdir, symlinks=True, dirs_exist_ok=True)
        return c

    def env(self):
        """The environment Exim runs with (finds the private libidn)."""
        e = dict(os.environ)
        old = e.get("LD_LIBRARY_PATH")
        e["LD_LIBRARY_PATH"] = self.libdir + (":" + old if old else "")
        return e


def _exim_user():
    """Create the system user the binary is built for, if it is missing."""
    if subprocess.run(["getent", "passwd", EXIM_USER],
                      capture_output=True).returncode == 0:
        return
    _run(["adduser", "--system", "--group", "--no-create-home",
          "--home", "/nonexistent", "--allow-bad-names", "--quiet",
          EXIM_USER], "creating user " + EXIM_USER, timeout=60)


def _fetch_debs(tmp):
    """apt-get download the Exim packages into TMP/debs (one apt-get update
    and a second try when the package lists do not know them)."""
    debs = os.path.join(tmp, "debs")
    os.makedirs(debs)
    # apt's sandbox user must be able to write the download directory
    os.chmod(tmp, 0o755)
    os.chmod(debs, 0o777)
    argv = ["apt-get", "download", "-q"] + list(EXIM_PACKAGES)
    try:
        _run(argv, "fetching Exim", cwd=debs)
    except AdapterError:
        _run(["apt-get", "update", "-q"], "apt-get update")
        _run(argv, "fetching Exim", cwd=debs)
    return sorted(glob.glob(os.path.join(debs, "*.deb")))


def exim():
    """An EximCopy, fetched and unpacked on first use."""
    if os.geteuid() != 0:
        raise AdapterError("the private Exim needs root (exim -C as root, "
                           "deliveries as %s)" % EXIM_USER)

    def build(tmp):
        root = os.path.join(tmp, "root")
        for deb in _fetch_debs(tmp):
            _run(["dpkg-deb", "-x", deb, root], "unpacking " + os.path.basename(deb))
        shutil.rmtree(os.path.join(tmp, "debs"))
        b = os.path.join(root, "usr", "sbin", "exim4")
        if not os.path.isfile(b):
            raise AdapterError("no usr/sbin/exim4 in the unpacked packages")
        # a private copy run by root needs no setuid bit; without it the
        # loader honours LD_LIBRARY_PATH when Exim re-executes itself
        os.chmod(b, os.stat(b).st_mode & ~(stat.S_ISUID | stat.S_ISGID))

    _exim_user()
    dest = _ensure(os.path.join(cache_dir(), "exim4"), build)
    return EximCopy(os.path.join(dest, "root"))


def haraka():
    """The directory holding node_modules/Haraka, installed on first use."""
    if shutil.which("npm") is None or shutil.which("node") is None:
        raise AdapterError("Haraka needs node and npm (apt-get install nodejs npm)")

    def build(tmp):
        _run(["npm", "install", "--prefix", tmp, "--no-audit", "--no-fund",
              "--no-save", "--loglevel=error", HARAKA_PACKAGE],
             "installing " + HARAKA_PACKAGE)

    return _ensure(os.path.join(cache_dir(), "haraka-" + HARAKA_PACKAGE.split("@")[1]), build)
