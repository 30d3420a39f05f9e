#!/usr/bin/env bash
# Builds the web UI and installs it under PREFIX:
#   PREFIX/share/open-notebook/web/   index.html and assets/, served by `open-notebook frontend`
#                                     with OPEN_NOTEBOOK_WEB_DIR pointing here
# npm ci installs exactly what web/package-lock.json records, and is skipped when node_modules was
# installed from the same lock file. The build checks the first-load JavaScript budget.
# The Dockerfile's `ui` stage runs it with PREFIX=/opt/open-notebook; CI runs it with a temporary
# PREFIX. Needs Node 20.19 or later and npm.
#
#   deploy/docker/build-web.sh PREFIX
set -euo pipefail

if [ "$#" -ne 1 ]; then
  echo "usage: $0 PREFIX" >&2
  exit 64
fi
prefix=$1
web_dir=$(cd "$(dirname "$0")/../../web" && pwd)

cd "$web_dir"
if [ ! node_modules/.installed -nt package-lock.json ]; then
  # playwright-core is only the browser test's driver; it never downloads a browser, and this
  # makes sure no install step tries.
  PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund
  touch node_modules/.installed
fi
npm run build

target="$prefix/share/open-notebook/web"
rm -rf "$target"
install -d "$target"
cp -R dist/. "$target/"
if [ ! -f "$target/index.html" ]; then
  echo "build-web: $target/index.html is missing after the build" >&2
  exit 1
fi
echo "build-web: installed the web UI in $target"
