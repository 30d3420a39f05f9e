#!/usr/bin/env bash
# Ingestion speed through the HTTP API, against the tool that bounds it, in the same run:
#   - PDF: pages per second for R manuals (upload to completed, 5 task slots) vs pdftotext alone
#     on the same files, one after another;
#   - HTML: MB/s for 200 PostgreSQL manual pages.
#
#   bash bench/ingest/run.sh      (after `make build`; needs r-doc-pdf and postgresql-doc-15)
set -euo pipefail
cd "$(dirname "$0")/../.."
source bench/lib.sh

manuals=(/usr/share/R/doc/manual/R-intro.pdf /usr/share/R/doc/manual/R-data.pdf
         /usr/share/R/doc/manual/R-admin.pdf /usr/share/R/doc/manual/R-lang.pdf)
pages=0
for pdf in "${manuals[@]}"; do
  pages=$((pages + $(pdfinfo "$pdf" | awk '/^Pages:/ {print $2}')))
done

start=$(now)
for pdf in "${manuals[@]}"; do pdftotext -enc UTF-8 "$pdf" - > /dev/null; done
pdftotext_seconds=$(echo "$(now) - $start" | bc)

port=$(free_port)
start_server "$port"
start=$(now)
upload_all "$port" "${manuals[@]}" > "$work/pdf-ids"
wait_sources "$port" "$work/pdf-ids"
ingest_seconds=$(echo "$(now) - $start" | bc)

mapfile -t html < <(find /usr/share/doc/postgresql-doc-15/html -name '*.html' | sort | head -200)
html_bytes=$(cat "${html[@]}" | wc -c)
start=$(now)
upload_all "$port" "${html[@]}" > "$work/html-ids"
wait_sources "$port" "$work/html-ids"
html_seconds=$(echo "$(now) - $start" | bc)

awk -v pages="$pages" -v tool="$pdftotext_seconds" -v ours="$ingest_seconds" \
    -v bytes="$html_bytes" -v html="$html_seconds" 'BEGIN {
  printf "PDF: %d pages of %d R manuals\n", pages, 4
  printf "| path | seconds | pages/s | ratio |\n|---|---|---|---|\n"
  printf "| pdftotext alone, sequential | %.2f | %.1f | 1.00 |\n", tool, pages / tool
  printf "| open-notebook upload to completed | %.2f | %.1f | %.2f |\n", ours, pages / ours, (pages / ours) / (pages / tool)
  printf "HTML: 200 PostgreSQL pages, %.1f MB in %.2f s = %.2f MB/s upload to completed\n", bytes / 1e6, html, bytes / 1e6 / html
}'
