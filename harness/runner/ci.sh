#!/usr/bin/env bash
# Retry-logic scenarios for CI: install Postfix if missing (no system
# instance is configured or started) and xmllint (the JUnit XML output is
# validated against harness/runner/junit.xsd), then run
# tests/e2e/test_runner.py.
#   harness/runner/ci.sh BUILD_DIR
set -euo pipefail
cd "$(dirname "$0")/../.."
build=${1:?usage: harness/runner/ci.sh BUILD_DIR}
sudo=""
[ "$(id -u)" -ne 0 ] && sudo="sudo"

# install PACKAGE... - apt-get install without recommends, quietly
install() {
  $sudo apt-get update -qq >/dev/null
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends \
    "$@" >/dev/null
}

if ! dpkg-query -W -f='${Status}' postfix 2>/dev/null | grep -q "install ok installed"; then
  echo "runner: installing postfix (No configuration)"
  echo "postfix postfix/main_mailer_type select No configuration" | $sudo debconf-set-selections
  install postfix
fi
if ! command -v xmllint >/dev/null; then
  echo "runner: installing xmllint (libxml2-utils)"
  install libxml2-utils
fi
exec /usr/bin/python3 tests/e2e/test_runner.py --build "$build"
