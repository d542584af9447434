#!/usr/bin/env bash
# Retry-logic scenarios for CI: install Postfix if missing (no system
# instance is configured or started) and xmllint (the JUnit XML output is
# validated against harness/runner/junit.xsd), then run
# tests/e2e/test_runner.py.
#   harness/runner/ci.sh BUILD_DIR
set -euo pipefail
cd "$(dirname "$0")/../.."
build=${1:?usage: harness/runner/ci.sh BUILD_DIR}
if ! dpkg-query -W -f='${Status}' postfix 2>/dev/null | grep -q "install ok installed"; then
  echo "runner: installing postfix (No configuration)"
  sudo=""
  [ "$(id -u)" -ne 0 ] && sudo="sudo"
  echo "postfix postfix/main_mailer_type select No configuration" | $sudo debconf-set-selections
  $sudo apt-get update -qq >/dev/null
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends \
    postfix >/dev/null
fi
if ! command -v xmllint >/dev/null; then
  echo "runner: installing xmllint (libxml2-utils)"
  sudo=""
  [ "$(id -u)" -ne 0 ] && sudo="sudo"
  $sudo apt-get update -qq >/dev/null
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends \
    libxml2-utils >/dev/null
fi
exec /usr/bin/python3 tests/e2e/test_runner.py --build "$build"
