#!/usr/bin/env python3
"""Vendor the chart library of the dashboard into the build directory.

Usage: vendor_uplot.py OUTDIR

Fetches uPlot's tarball from the npm registry with `npm pack` (npm's
cache makes a second fetch offline), checks it against the pinned
integrity hash, and writes OUTDIR/uPlot.iife.min.js, OUTDIR/uPlot.min.css
and OUTDIR/uPlot.LICENSE.txt.  Quiet unless something fails.  The pin
below is the one place the version is named: the integrity comes from
`npm view uplot@VERSION dist.integrity`.
"""
import base64
import hashlib
import os
import subprocess
import sys
import tarfile
import tempfile

VERSION = "1.6.32"
INTEGRITY = ("sha512-KIMVnG68zvu5XXUbC4LQEPnhwOxBuLyW1AHtpm6IKTXImkbLgkMy+"
             "jabjLgSLMasNuGGzQm/ep3tOkyTxpiQIw==")
# member of the tarball -> file written in OUTDIR
FILES = {
    "package/dist/uPlot.iife.min.js": "uPlot.iife.min.js",
    "package/dist/uPlot.min.css": "uPlot.min.css",
    "package/LICENSE": "uPlot.LICENSE.txt",
}


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: vendor_uplot.py OUTDIR")
    out = sys.argv[1]
    with tempfile.TemporaryDirectory(prefix="mxsim-uplot-") as tmp:
        r = subprocess.run(["npm", "pack", "uplot@" + VERSION, "--silent",
                            "--pack-destination", tmp],
                           capture_output=True, text=True)
        if r.returncode != 0:
            sys.exit("vendor_uplot: npm pack uplot@%s failed: %s"
                     % (VERSION, r.stderr.strip()))
        tgz = os.path.join(tmp, r.stdout.strip().splitlines()[-1])
        with open(tgz, "rb") as f:
            data = f.read()
        got = "sha512-" + base64.b64encode(hashlib.sha512(data).digest()).decode()
        if got != INTEGRITY:
            sys.exit("vendor_uplot: uplot@%s: integrity %s, expected %s"
                     % (VERSION, got, INTEGRITY))
        with tarfile.open(tgz, "r:gz") as tf:
            for member, name in FILES.items():
                src = tf.extractfile(member)
                if src is None:
                    sys.exit("vendor_uplot: %s missing from the tarball" % member)
                with open(os.path.join(out, name), "wb") as dst:
                    dst.write(src.read())


if __name__ == "__main__":
    main()
