#!/usr/bin/env bash
# The benchmark from one command on a fresh clone (not part of CI):
# installs what is missing (Postfix for smtp-sink/smtp-source, valgrind,
# gnuplot, the build dependencies), builds a release tree in build-bench/,
# then runs harness/bench/mxbench (5 pairs by default; about an hour) and
# leaves out/bench/bench.{json,md} and throughput.png.
#   harness/bench/run.sh [mxbench options, e.g. --pairs 1 --only throughput]
set -euo pipefail
cd "$(dirname "$0")/../.."
pkgs="gcc meson ninja-build pkg-config libyaml-dev libssl-dev libmicrohttpd-dev
  libjansson-dev libspf2-dev libopendkim-dev libopendmarc-dev libldns-dev
  python3 python3-yaml postfix valgrind gnuplot-nox iproute2"
missing=()
for p in $pkgs; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
    missing+=("$p")
done
if [ ${#missing[@]} -ne 0 ]; then
  echo "bench: installing ${missing[*]}"
  sudo=""
  [ "$(id -u)" -ne 0 ] && sudo="sudo"
  echo "postfix postfix/main_mailer_type select No configuration" | $sudo debconf-set-selections
  $sudo apt-get update -qq >/dev/null
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends \
    "${missing[@]}" >/dev/null
fi
if [ ! -f build-bench/build.ninja ]; then
  meson setup build-bench -Dbuildtype=release -Ddpdk=disabled >/dev/null
fi
ninja -C build-bench >/dev/null
exec /usr/bin/python3 harness/bench/mxbench --build build-bench "$@"
