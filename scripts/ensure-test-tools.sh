#!/usr/bin/env bash
# What the suites need from Debian: redis-server and redis-cli (every integration suite spawns its own Redis, the
# cluster suites a 6-node cluster), prometheus (the ops
# suite runs a real one) and chromium (the demo page suites; playwright-core never downloads a browser).
# Installs what is missing when it can (root, or sudo without a password); otherwise stops at once, naming the
# command to run. Then the machine's PostgreSQL on 127.0.0.1:5432 (the PostgreSQL store suites create a database
# of their own on it): started when it does not answer and this is root, otherwise the same stop at once.
# Shared by `npm test` (pretest) and .ci/run.
set -euo pipefail

ensure_postgres() {
  pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null && return 0
  local start_command='pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start'
  if [ "$(id -u)" -ne 0 ] || ! command -v pg_ctlcluster >/dev/null 2>&1; then
    echo "The tests need PostgreSQL answering on 127.0.0.1:5432 (user postgres, trust auth). Run as root: ${start_command}" >&2
    exit 1
  fi
  echo "--- starting PostgreSQL (the tests need it on 127.0.0.1:5432)" >&2
  pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql)" main start >&2
  for _ in $(seq 1 50); do
    pg_isready -q -h 127.0.0.1 -p 5432 && return 0
    sleep 0.2
  done
  echo "PostgreSQL did not answer on 127.0.0.1:5432 after ${start_command}" >&2
  exit 1
}

missing=()
command -v redis-server >/dev/null 2>&1 || missing+=(redis-server)
# redis-cli --cluster create joins the cluster suites' nodes (Debian's redis-server pulls it in; checked on its own).
command -v redis-cli >/dev/null 2>&1 || missing+=(redis-tools)
command -v prometheus >/dev/null 2>&1 || missing+=(prometheus)
command -v chromium >/dev/null 2>&1 || [ -x "${CHROMIUM_PATH:-/usr/bin/chromium}" ] || missing+=(chromium)
if [ ${#missing[@]} -eq 0 ]; then
  ensure_postgres
  exit 0
fi

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
ensure_postgres
