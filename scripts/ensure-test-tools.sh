#!/usr/bin/env bash
# What the suites need from Debian: redis-server (every integration suite spawns its own), prometheus (the ops
# suite runs a real one) and chromium (the demo page suites; playwright-core never downloads a browser).
# Installs what is missing when it can (root, or sudo without a password); otherwise stops at once, naming the
# command to run. Shared by `npm test` (pretest) and .ci/run.
set -euo pipefail

missing=()
command -v redis-server >/dev/null 2>&1 || missing+=(redis-server)
command -v prometheus >/dev/null 2>&1 || missing+=(prometheus)
command -v chromium >/dev/null 2>&1 || [ -x "${CHROMIUM_PATH:-/usr/bin/chromium}" ] || missing+=(chromium)
[ ${#missing[@]} -eq 0 ] && exit 0

command_line="apt-get update && apt-get install -y --no-install-recommends ${missing[*]}"
if [ "$(id -u)" -eq 0 ]; then
  SUDO=""
elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
  SUDO="sudo"
else
  echo "The tests need ${missing[*]} from Debian's packages. Run as root: ${command_line}" >&2
  exit 1
fi
echo "--- installing ${missing[*]} (the tests need them)" >&2
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
