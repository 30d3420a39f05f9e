#!/usr/bin/env bash
# Waits until an Open Notebook health URL returns 200, then runs the given command in its place.
#
#   wait-for-health.sh URL TIMEOUT_SECONDS [-- COMMAND ARGS...]
#
# Used to start a component only after the one it depends on is ready: supervisord starts its
# programs in priority order but does not wait for readiness, and `make start-all` uses it to
# return only once the API serves requests. Exits 1 when the URL is not healthy in time, so the
# supervisor retries the start and logs why.
set -euo pipefail

if [ "$#" -lt 2 ]; then
  echo "usage: $0 URL TIMEOUT_SECONDS [-- COMMAND ARGS...]" >&2
  exit 64
fi
url=$1
timeout=$2
shift 2
if [ "${1:-}" = "--" ]; then shift; fi

case "$timeout" in
  '' | *[!0-9]*) echo "wait-for-health: TIMEOUT_SECONDS must be a whole number, got '$timeout'" >&2; exit 64 ;;
esac

deadline=$((SECONDS + timeout))
delay=0.2
last=""
while :; do
  # --noproxy: the URL is a local service, never reached through an HTTP proxy from the environment.
  # On failure curl's error message comes before the status code 000, joined into one line.
  last=$(curl --silent --show-error --noproxy '*' --max-time 3 --output /dev/null \
              --write-out '%{http_code}' "$url" 2>&1 | tr '\n' ' ') || true
  if [ "$last" = "200" ]; then break; fi
  if [ "$SECONDS" -ge "$deadline" ]; then
    echo "wait-for-health: $url is not healthy after ${timeout} s (last answer: ${last:-none});" \
         "read the API log for the cause" >&2
    exit 1
  fi
  sleep "$delay"
  # Back off to one check a second so a slow start does not fill the log.
  case "$delay" in 0.2) delay=0.5 ;; 0.5) delay=1 ;; esac
done

if [ "$#" -gt 0 ]; then exec "$@"; fi
