#!/usr/bin/env bash
# Builds open-notebook in release mode and installs it under PREFIX:
#   PREFIX/bin/open-notebook
#   PREFIX/libexec/open-notebook/wait-for-health.sh
# then checks that the installed binary finds every shared library and runs. The Dockerfile's
# build stage runs it with PREFIX=/opt/open-notebook; CI runs it with a temporary PREFIX.
#
#   deploy/docker/build.sh PREFIX
# Environment: BUILD_DIR (default build-release-install), JOBS (default: number of CPUs).
set -euo pipefail

if [ "$#" -ne 1 ]; then
  echo "usage: $0 PREFIX" >&2
  exit 64
fi
prefix=$1
source_dir=$(cd "$(dirname "$0")/../.." && pwd)
build_dir=${BUILD_DIR:-$source_dir/build-release-install}
jobs=${JOBS:-$(nproc)}

cmake -S "$source_dir" -B "$build_dir" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
      -DON_BUILD_TESTS=OFF -DON_BUILD_BENCH=OFF
cmake --build "$build_dir" -j "$jobs" --target open-notebook

install -d "$prefix/bin" "$prefix/libexec/open-notebook"
# --strip-program is not used: the debug information stays for useful crash reports.
install -m 0755 "$build_dir/open-notebook" "$prefix/bin/open-notebook"
install -m 0755 "$source_dir/deploy/wait-for-health.sh" "$prefix/libexec/open-notebook/wait-for-health.sh"

if ldd "$prefix/bin/open-notebook" | grep -q "not found"; then
  echo "build: shared libraries missing for $prefix/bin/open-notebook:" >&2
  ldd "$prefix/bin/open-notebook" | grep "not found" >&2
  exit 1
fi
"$prefix/bin/open-notebook" --help > /dev/null
echo "build: installed $prefix/bin/open-notebook"
