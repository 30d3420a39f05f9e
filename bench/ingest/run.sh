#!/usr/bin/env bash
# Ingestion speed through the HTTP API, against the tool that bounds it, in the same run:
#   - PDF: pages per second for R manuals (upload to completed, 5 task slots) vs pdftotext alone
#     on the same files, one after another;
#   - HTML: MB/s for 200 PostgreSQL manual pages.
#
#   bash bench/ingest/run.sh      (after `make build`; needs r-doc-pdf and postgresql-doc-15)
#
# POSTGRES_URL=postgresql://…/<empty database> runs the same uploads a second time, against a
# server with a fresh data directory and OPEN_NOTEBOOK_DATABASE_URL=$POSTGRES_URL (it applies the
# migrations at start), and adds the PostgreSQL rows and their ratio to SQLite.
set -euo pipefail
cd "$(dirname "$0")/../.."
source bench/lib.sh

manuals=(/usr/share/R/doc/manual/R-intro.pdf /usr/share/R/doc/manual/R-data.pdf
         /usr/share/R/doc/manual/R-admin.pdf /usr/share/R/doc/manual/R-lang.pdf)
pages=0
for pdf in "${manuals[@]}"; do
  pages=$((pages + $(pdfinfo "$pdf" | awk '/^Pages:/ {print $2}')))
done
mapfile -t html < <(find /usr/share/doc/postgresql-doc-15/html -name '*.html' | sort | head -200)
html_bytes=$(cat "${html[@]}" | wc -c)

if [ -n "${POSTGRES_URL:-}" ]; then
  tables=$(psql "$POSTGRES_URL" -Atc "SELECT count(*) FROM information_schema.tables WHERE table_name = 'source'")
  if [ "$tables" != 0 ] && [ "$(psql "$POSTGRES_URL" -Atc "SELECT count(*) FROM source")" != 0 ]; then
    echo "POSTGRES_URL names a database that already has sources; give an empty database" >&2
    exit 1
  fi
fi

start=$(now)
for pdf in "${manuals[@]}"; do pdftotext -enc UTF-8 "$pdf" - > /dev/null; done
pdftotext_seconds=$(echo "$(now) - $start" | bc)

# measure_uploads <data directory> [VAR=value ...]: starts a server with its own data directory,
# times the PDF uploads and then the HTML uploads to completed, and stops the server, so it takes
# no CPU from the next run. Sets pdf_seconds and html_seconds.
measure_uploads() {
  local data=$1
  shift
  local port start
  port=$(free_port)
  start_server "$port" OPEN_NOTEBOOK_DATA_DIR="$data" "$@"
  start=$(now)
  upload_all "$port" "${manuals[@]}" > "$data.pdf-ids"
  wait_sources "$port" "$data.pdf-ids"
  pdf_seconds=$(echo "$(now) - $start" | bc)
  start=$(now)
  upload_all "$port" "${html[@]}" > "$data.html-ids"
  wait_sources "$port" "$data.html-ids"
  html_seconds=$(echo "$(now) - $start" | bc)
  kill "$server_pid"
  wait "$server_pid" 2>/dev/null || true
}

measure_uploads "$work/data"
sqlite_pdf=$pdf_seconds
sqlite_html=$html_seconds
postgres_pdf=0
postgres_html=0
if [ -n "${POSTGRES_URL:-}" ]; then
  measure_uploads "$work/data-postgres" OPEN_NOTEBOOK_DATABASE_URL="$POSTGRES_URL"
  postgres_pdf=$pdf_seconds
  postgres_html=$html_seconds
  echo "PostgreSQL $(psql "$POSTGRES_URL" -Atc "SHOW server_version" | cut -d' ' -f1):" \
    "$(psql "$POSTGRES_URL" -Atc "SELECT count(*) FROM source WHERE full_text IS NOT NULL") sources with text," \
    "$(psql "$POSTGRES_URL" -Atc "SELECT count(*) FROM source_chunk") chunks stored"
fi

awk -v pages="$pages" -v tool="$pdftotext_seconds" -v ours="$sqlite_pdf" -v bytes="$html_bytes" \
    -v html="$sqlite_html" -v pg_pdf="$postgres_pdf" -v pg_html="$postgres_html" 'BEGIN {
  printf "PDF: %d pages of %d R manuals\n", pages, 4
  printf "| path | seconds | pages/s | ratio |\n|---|---|---|---|\n"
  printf "| pdftotext alone, sequential | %.2f | %.1f | 1.00 |\n", tool, pages / tool
  printf "| open-notebook upload to completed | %.2f | %.1f | %.2f |\n", ours, pages / ours, (pages / ours) / (pages / tool)
  if (pg_pdf > 0)
    printf "| open-notebook on PostgreSQL, upload to completed | %.2f | %.1f | %.2f |\n", pg_pdf, pages / pg_pdf, (pages / pg_pdf) / (pages / tool)
  printf "HTML: 200 PostgreSQL pages, %.1f MB in %.2f s = %.2f MB/s upload to completed\n", bytes / 1e6, html, bytes / 1e6 / html
  if (pg_pdf > 0) {
    printf "\n| database | PDF seconds | PDF pages/s | HTML seconds | HTML MB/s |\n|---|---|---|---|---|\n"
    printf "| SQLite | %.2f | %.1f | %.2f | %.2f |\n", ours, pages / ours, html, bytes / 1e6 / html
    printf "| PostgreSQL | %.2f | %.1f | %.2f | %.2f |\n", pg_pdf, pages / pg_pdf, pg_html, bytes / 1e6 / pg_html
    printf "| PostgreSQL / SQLite, seconds | %.2f | | %.2f | |\n", pg_pdf / ours, pg_html / html
  }
}'
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
