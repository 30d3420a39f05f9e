#!/usr/bin/env bash
# Keyword search latency on at least 100,000 chunks: POST /api/search over HTTP (wrk, one
# connection, so latency is not queueing) against the same storage query run directly on the
# SQLite file (bench_search_direct), in the same run.
#
#   bash bench/search/run.sh     (after `make build`; CORPUS=<dir> reuses a corpus written earlier by
#                                 bench/search/make_corpus.py, which takes a few minutes)
set -euo pipefail
cd "$(dirname "$0")/../.."
source bench/lib.sh

corpus=${CORPUS:-$work/corpus}
[ -d "$corpus" ] || python3 bench/search/make_corpus.py "$corpus"
documents=$(ls "$corpus" | wc -l)

port=$(free_port)
start_server "$port" OPEN_NOTEBOOK_MAX_UPLOAD_SIZE_MB=200
start=$(now)
upload_all "$port" "$corpus"/*.txt > "$work/ids"
wait_sources "$port" "$work/ids"
indexing_seconds=$(echo "$(now) - $start" | bc)
chunks=$(python3 -c "import sqlite3; print(sqlite3.connect('$work/data/open-notebook.db').execute('select count(*) from source_chunk').fetchone()[0])")

QUERIES_FILE=$PWD/bench/search/queries.txt wrk -t1 -c1 -d10s --latency -s bench/search/post.lua \
  "http://127.0.0.1:$port" > "$work/wrk.txt"
http_p50=$(awk '$1 == "50%" {print $2}' "$work/wrk.txt")
http_p99=$(awk '$1 == "99%" {print $2}' "$work/wrk.txt")
http_rps=$(awk '/Requests\/sec/ {print $2}' "$work/wrk.txt")

direct=$(build/bench/bench_search_direct "$work/data/open-notebook.db" bench/search/queries.txt 10)
direct_snippets=$(SNIPPETS=1 build/bench/bench_search_direct "$work/data/open-notebook.db" bench/search/queries.txt 10)

echo "corpus: $documents documents, $chunks chunks, indexed through the API in $indexing_seconds s"
echo "| path | p50 | p99 | note |"
echo "|---|---|---|---|"
echo "| POST /api/search over HTTP (wrk -t1 -c1 -d10s) | $http_p50 | $http_p99 | $http_rps requests/s |"
echo "| same query on the SQLite file (bench_search_direct) | $(echo "$direct" | sed -E 's/.*p50_ms=([0-9.]+).*/\1ms/') | $(echo "$direct" | sed -E 's/.*p99_ms=([0-9.]+).*/\1ms/') | $direct |"
echo "| same query and the handler's snippets, on the SQLite file | $(echo "$direct_snippets" | sed -E 's/.*p50_ms=([0-9.]+).*/\1ms/') | $(echo "$direct_snippets" | sed -E 's/.*p99_ms=([0-9.]+).*/\1ms/') | $direct_snippets |"
