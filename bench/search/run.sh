#!/usr/bin/env bash
# Keyword search latency on at least 100,000 chunks: POST /api/search over HTTP (wrk, one
# connection, so latency is not queueing) against the same storage query run directly on the
# SQLite file (bench_search_direct), in the same run.
#
#   bash bench/search/run.sh     (after `make build`; CORPUS=<dir> reuses a corpus written earlier by
#                                 bench/search/make_corpus.py, which takes a few minutes; DATA=<dir>
#                                 measures on a data directory indexed earlier; RUNS=N measuring runs)
#
# POSTGRES_URL=postgresql://…/<database> also runs the direct queries on PostgreSQL: an empty
# database first gets a copy of the indexed sources and chunks (bench_search_copy), a database that
# has sources is taken as such a copy. Each run then adds the PostgreSQL query's p50 and its ratio
# to SQLite's FTS query p50 in the same run.
set -euo pipefail
cd "$(dirname "$0")/../.."
source bench/lib.sh

port=$(free_port)
if [ -n "${DATA:-}" ]; then
  # Measure again on a data directory indexed by an earlier run (KEEP_WORK=1 keeps it).
  mkdir -p "$work"
  ln -s "$(realpath "$DATA")" "$work/data"
  start_server "$port"
  chunks=$(python3 -c "import sqlite3; print(sqlite3.connect('$work/data/open-notebook.db').execute('select count(*) from source_chunk').fetchone()[0])")
  echo "data: $DATA, $chunks chunks"
else
  corpus=${CORPUS:-$work/corpus}
  [ -d "$corpus" ] || python3 bench/search/make_corpus.py "$corpus"
  documents=$(ls "$corpus" | wc -l)
  start_server "$port" OPEN_NOTEBOOK_MAX_UPLOAD_SIZE_MB=200
  start=$(now)
  upload_all "$port" "$corpus"/*.txt > "$work/ids"
  wait_sources "$port" "$work/ids"
  indexing_seconds=$(echo "$(now) - $start" | bc)
  chunks=$(python3 -c "import sqlite3; print(sqlite3.connect('$work/data/open-notebook.db').execute('select count(*) from source_chunk').fetchone()[0])")
  echo "corpus: $documents documents, $chunks chunks, indexed through the API in $indexing_seconds s"
fi

if [ -n "${POSTGRES_URL:-}" ]; then
  sources=$(psql "$POSTGRES_URL" -Atc "SELECT count(*) FROM information_schema.tables WHERE table_name = 'source'")
  [ "$sources" = 1 ] && sources=$(psql "$POSTGRES_URL" -Atc "SELECT count(*) FROM source")
  if [ "$sources" = 0 ]; then
    build/bench/bench_search_copy "$work/data/open-notebook.db" "$POSTGRES_URL" > "$work/copy.log" 2>&1
    grep -E "^(copied|in) " "$work/copy.log"
    psql "$POSTGRES_URL" -qc "VACUUM ANALYZE"
  fi
  echo "PostgreSQL: $(psql "$POSTGRES_URL" -Atc "SELECT count(*) FROM source_chunk") chunks," \
    "$(psql "$POSTGRES_URL" -Atc "SELECT version()" | cut -d' ' -f1-2)"
fi

field() { echo "$1" | sed -E "s/.*$2=([0-9.]+).*/\1/"; }
# wrk prints 2.34ms or 812.00us; milliseconds either way.
millis() { case $1 in *us) echo "scale=3; ${1%us} / 1000" | bc ;; *ms) echo "${1%ms}" ;; *s) echo "${1%s} * 1000" | bc ;; esac; }

# The first requests after start-up are slower (cold caches), so wrk warms up for 3 s first.
QUERIES_FILE=$PWD/bench/search/queries.txt wrk -t1 -c1 -d3s -s bench/search/post.lua "http://127.0.0.1:$port" > /dev/null
if [ -n "${POSTGRES_URL:-}" ]; then
  echo "| run | HTTP p50 | HTTP p99 | FTS query p50 (mean) | query and snippets p50 (mean) | HTTP / FTS query p50 |" \
    "PostgreSQL query p50 (mean) | PostgreSQL / FTS query p50 |"
  echo "|---|---|---|---|---|---|---|---|"
else
  echo "| run | HTTP p50 | HTTP p99 | FTS query p50 (mean) | query and snippets p50 (mean) | HTTP / FTS query p50 |"
  echo "|---|---|---|---|---|---|"
fi
for run in $(seq 1 "${RUNS:-3}"); do
  QUERIES_FILE=$PWD/bench/search/queries.txt wrk -t1 -c1 -d10s --latency -s bench/search/post.lua \
    "http://127.0.0.1:$port" > "$work/wrk.txt"
  http_p50=$(millis "$(awk '$1 == "50%" {print $2}' "$work/wrk.txt")")
  http_p99=$(millis "$(awk '$1 == "99%" {print $2}' "$work/wrk.txt")")
  direct=$(build/bench/bench_search_direct "$work/data/open-notebook.db" bench/search/queries.txt 10)
  direct_snippets=$(SNIPPETS=1 build/bench/bench_search_direct "$work/data/open-notebook.db" bench/search/queries.txt 10)
  ratio=$(echo "scale=2; $http_p50 / $(field "$direct" p50_ms)" | bc)
  postgres_columns=""
  if [ -n "${POSTGRES_URL:-}" ]; then
    postgres=$(build/bench/bench_search_direct "$POSTGRES_URL" bench/search/queries.txt 10)
    postgres_ratio=$(echo "scale=2; $(field "$postgres" p50_ms) / $(field "$direct" p50_ms)" | bc)
    postgres_columns=" $(field "$postgres" p50_ms) ($(field "$postgres" mean_ms)) ms | ${postgres_ratio}x |"
  fi
  echo "| $run | $http_p50 ms | $http_p99 ms | $(field "$direct" p50_ms) ($(field "$direct" mean_ms)) ms |" \
    "$(field "$direct_snippets" p50_ms) ($(field "$direct_snippets" mean_ms)) ms | ${ratio}x |$postgres_columns"
done
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
