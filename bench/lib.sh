# Shared helpers for bench/*/run.sh: a scratch directory, a server on a free port, cleanup.
BIN=${BIN:-build/open-notebook}
work=$(mktemp -d)
chmod 755 "$work"
server_pids=()

cleanup() {
  for pid in "${server_pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  if [ -z "${KEEP_WORK:-}" ]; then rm -rf "$work"; else echo "kept $work" >&2; fi
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

wait_for() {
  for _ in $(seq 1 200); do
    curl -fs "$1" >/dev/null 2>&1 && return 0
    sleep 0.1
  done
  echo "timed out waiting for $1" >&2
  return 1
}

now() { date +%s.%N; }

# start_server <port> [VAR=value ...]: serve (without the web UI, so several can run at once) with
# data in $work/data; sets server_pid.
start_server() {
  local port=$1
  shift
  env OPEN_NOTEBOOK_DATA_DIR="$work/data" API_PORT="$port" OPEN_NOTEBOOK_ACCESS_LOG=false OPEN_NOTEBOOK_UI_IN_SERVE=false "$@" \
    "$BIN" serve > "$work/serve-$port.log" 2>&1 &
  server_pid=$!
  server_pids+=("$server_pid")
  wait_for "http://127.0.0.1:$port/health"
}

# upload_all <port> <file>...: adds the files as sources without waiting for processing, from one
# process (a curl per file would dominate the time); prints one source id per line.
upload_all() {
  python3 - "$@" <<'PY'
import json, sys, urllib.request, uuid
port, files = sys.argv[1], sys.argv[2:]
for path in files:
    boundary = uuid.uuid4().hex
    data = open(path, "rb").read()
    name = path.rsplit("/", 1)[-1]
    body = b"".join([
        f"--{boundary}\r\nContent-Disposition: form-data; name=\"type\"\r\n\r\nupload\r\n".encode(),
        f"--{boundary}\r\nContent-Disposition: form-data; name=\"async_processing\"\r\n\r\ntrue\r\n".encode(),
        f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{name}\"\r\n\r\n".encode(),
        data, f"\r\n--{boundary}--\r\n".encode()])
    request = urllib.request.Request(f"http://127.0.0.1:{port}/api/sources", data=body,
                                     headers={"Content-Type": f"multipart/form-data; boundary={boundary}"})
    print(json.load(urllib.request.urlopen(request))["id"])
PY
}

# wait_sources <port> <ids file>: waits until no source is queued or running; prints failures.
# Fails after WAIT_SOURCES_SECONDS (default 1800) with the number of sources still pending.
wait_sources() {
  local port=$1 ids=$2
  python3 - "$port" "$ids" "${WAIT_SOURCES_SECONDS:-1800}" <<'PY'
import json, sys, time, urllib.request
port, ids = sys.argv[1], [line.strip() for line in open(sys.argv[2]) if line.strip()]
deadline = time.monotonic() + float(sys.argv[3])
pending = set(ids)
while pending:
    if time.monotonic() > deadline:
        sys.exit(f"timed out after {sys.argv[3]} s waiting for {len(pending)} of {len(ids)} sources; "
                 "raise WAIT_SOURCES_SECONDS or check the server log")
    for source in list(pending):
        status = json.load(urllib.request.urlopen(f"http://127.0.0.1:{port}/api/sources/{source}/status"))
        if status["status"] in ("completed", "failed", "cancelled"):
            pending.discard(source)
            if status["status"] != "completed":
                print(f"{source}: {status['status']}: {status['message']}", file=sys.stderr)
    time.sleep(0.05)
PY
}
