#!/usr/bin/env bash
# Measures GET /api/notebooks (20 notebooks) with wrk against nginx serving the same JSON body as a
# static file, in the same run, and the idle resident memory of `open-notebook serve`.
#
#   bash bench/api/run.sh            (after `make build`; BIN=path/to/open-notebook to override)
#
# Prints one summary table; bench/README.md records results with the machine they came from.
set -euo pipefail
cd "$(dirname "$0")/../.."

DURATION=${DURATION:-10s}
THREADS=${THREADS:-2}
CONNECTIONS=${CONNECTIONS:-64}
for tool in wrk nginx curl; do
  command -v "$tool" >/dev/null || { echo "missing $tool: run scripts/install-deps.sh" >&2; exit 1; }
done
source bench/lib.sh

# wrk prints "Requests/sec: N" and, with --latency, a "99%" percentile line.
run_wrk() {
  local url=$1 out=$2
  wrk -t"$THREADS" -c"$CONNECTIONS" -d"$DURATION" --latency "$url" > "$out"
  local rps p99
  rps=$(awk '/Requests\/sec/ {print $2}' "$out")
  p99=$(awk '$1 == "99%" {print $2}' "$out")
  echo "$rps $p99"
}

stop_nginx() {
  if [ -f "$work/nginx.pid" ]; then kill "$(cat "$work/nginx.pid")" 2>/dev/null || true; fi
}

api_port=$(free_port)
start_server "$api_port"
for i in $(seq 1 20); do
  curl -fs -X POST "http://127.0.0.1:$api_port/api/notebooks" -H 'Content-Type: application/json' \
    -d "{\"name\": \"Notebook $i\", \"description\": \"Benchmark notebook number $i with a short description\"}" >/dev/null
done
sleep 2
idle_rss_kb=$(awk '/VmRSS/ {print $2}' "/proc/$server_pid/status")

mkdir -p "$work/www"
chmod 755 "$work/www"
curl -fs "http://127.0.0.1:$api_port/api/notebooks" > "$work/www/notebooks.json"
body_bytes=$(wc -c < "$work/www/notebooks.json")
nginx_port=$(free_port)
cat > "$work/nginx.conf" <<CONF
worker_processes auto;
pid $work/nginx.pid;
error_log $work/nginx-error.log;
events { worker_connections 1024; }
http {
  access_log off;
  default_type application/json;
  server {
    listen 127.0.0.1:$nginx_port;
    root $work/www;
  }
}
CONF
nginx -c "$work/nginx.conf" -p "$work"
trap 'stop_nginx; cleanup' EXIT
wait_for "http://127.0.0.1:$nginx_port/notebooks.json"

read -r api_rps api_p99 < <(run_wrk "http://127.0.0.1:$api_port/api/notebooks" "$work/wrk-api.txt")
read -r nginx_rps nginx_p99 < <(run_wrk "http://127.0.0.1:$nginx_port/notebooks.json" "$work/wrk-nginx.txt")

# The same load with the default access log on (one log line per request).
kill "$server_pid"
wait "$server_pid" 2>/dev/null || true
logged_port=$(free_port)
start_server "$logged_port" OPEN_NOTEBOOK_ACCESS_LOG=true
read -r logged_rps logged_p99 < <(run_wrk "http://127.0.0.1:$logged_port/api/notebooks" "$work/wrk-logged.txt")

ratio=$(awk -v a="$api_rps" -v b="$nginx_rps" 'BEGIN {printf "%.2f", a / b}')
logged_ratio=$(awk -v a="$logged_rps" -v b="$nginx_rps" 'BEGIN {printf "%.2f", a / b}')
cat <<REPORT
GET /api/notebooks, 20 notebooks, body $body_bytes bytes; wrk -t$THREADS -c$CONNECTIONS -d$DURATION
| server | requests/s | p99 latency | ratio to nginx |
|---|---|---|---|
| nginx static file | $nginx_rps | $nginx_p99 | 1.00 |
| open-notebook serve, access log off | $api_rps | $api_p99 | $ratio |
| open-notebook serve, access log on (default) | $logged_rps | $logged_p99 | $logged_ratio |
idle RSS of open-notebook serve after start-up and 20 writes: $((idle_rss_kb / 1024)) MiB ($idle_rss_kb KiB)
REPORT
