#!/usr/bin/env bash
# Vector index: recall@10 of the HNSW graph against exact scan, and p50/p99 query latency of
# both, on (a) the 778 all-MiniLM-L6-v2 vectors of the npm package @sap-ux/fiori-docs-embeddings
# and (b) generated clustered 384-dimension vectors.
#
#   bash bench/vector/run.sh    (after `make build`, or build the bench_vector target)
#
# SYNTHETIC_COUNT sets the size of (b) (default 1,000,000, about 5 GB of memory and, on two shared
# cores, most of an hour to build); SYNTHETIC_QUERIES, BUILD_THREADS and EF_CONSTRUCTION tune it.
# The npm package is fetched into a temporary directory here, at benchmark time only.
#
# POSTGRES_URL=postgresql://…/<database> also loads the same vectors into a scratch table there
# (bench_vector_scratch, which the benchmark creates and drops), builds a pgvector HNSW index with
# the same M and ef_construction, runs the same queries over one connection, and prints recall
# against the same exact top 10 and the ratios pgvector/hnswlib. The role must be allowed to run
# CREATE EXTENSION vector unless the database already has the extension.
#
# TIME_LIMIT bounds each of the two runs (a `timeout` duration, default 3h). NICENESS is the nice
# value of (b), 10 by default. With POSTGRES_URL, set it to the PostgreSQL server's nice value, so
# the scheduler favours neither side.
set -euo pipefail
cd "$(dirname "$0")/../.."
BENCH=${BENCH:-build/bench/bench_vector}
SYNTHETIC_COUNT=${SYNTHETIC_COUNT:-1000000}
SYNTHETIC_QUERIES=${SYNTHETIC_QUERIES:-300}
BUILD_THREADS=${BUILD_THREADS:-2}
EF_CONSTRUCTION=${EF_CONSTRUCTION:-100}
TIME_LIMIT=${TIME_LIMIT:-3h}
NICENESS=${NICENESS:-10}
postgres=()
[ -n "${POSTGRES_URL:-}" ] && postgres=(--postgres "$POSTGRES_URL")

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

echo "== (a) @sap-ux/fiori-docs-embeddings: every vector queries the others, self-match excluded"
(cd "$work" && npm pack --silent @sap-ux/fiori-docs-embeddings > pack.txt && tar xzf ./*.tgz)
embeddings="$work/package/data/embeddings"
# embeddings.bin is raw little-endian float32, one row of `dimensions` floats per line of
# records.jsonl; metadata.json names the model and the dimension.
read -r model dimension count < <(python3 -c '
import json, sys
m = json.load(open(sys.argv[1]))
print(m["model"], m["dimensions"], m["totalVectors"])' "$embeddings/metadata.json")
echo "package $(cat "$work/pack.txt"), model $model, $count vectors of $dimension dimensions"
timeout "$TIME_LIMIT" "$BENCH" "${postgres[@]}" file "$embeddings/embeddings.bin" "$dimension" "$model" "$BUILD_THREADS" 2>&1 | grep -v '\[info\]'

echo
echo "== (b) $SYNTHETIC_COUNT generated clustered vectors, $SYNTHETIC_QUERIES held-out queries"
timeout "$TIME_LIMIT" nice -n "$NICENESS" "$BENCH" "${postgres[@]}" synthetic "$SYNTHETIC_COUNT" 384 1000 "$SYNTHETIC_QUERIES" "$BUILD_THREADS" \
  "$EF_CONSTRUCTION" "$work" 2>&1 | grep -v '\[info\]'
