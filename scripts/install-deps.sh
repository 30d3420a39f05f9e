#!/usr/bin/env bash
# Installs every Debian 12 (bookworm) package that building, running and testing Open Notebook
# needs. Safe to run again: apt-get skips what is already installed.
#   scripts/install-deps.sh               everything
#   scripts/install-deps.sh --build-only  only what building the binary needs (the Docker build stage)
set -euo pipefail

packages=(
  # Toolchain
  build-essential cmake ninja-build pkg-config ccache git curl ca-certificates
  # Libraries linked into open-notebook
  libboost1.81-dev nlohmann-json3-dev libspdlog-dev libfmt-dev libcli11-dev
  libsqlite3-dev sqlite3 libsodium-dev libicu-dev libstemmer-dev libcurl4-openssl-dev
  libxml2-dev libzip-dev libpugixml-dev libarchive-dev libmagic-dev libuchardet-dev
  libhnswlib-dev libpq-dev
  # Programs run as child processes
  poppler-utils
)
test_packages=(
  # Tests and benchmarks; supervisor and nginx-light for the supervised-deployment drill
  libgtest-dev libgmock-dev libbenchmark-dev wrk nginx-light supervisor procps python3 bc clang-14 libclang-rt-14-dev
  # Real documents for the extraction and search tests
  postgresql-doc-15 python3.11-doc r-doc-pdf texlive-latex-base-doc debian-faq
)

case "${1:-}" in
  --build-only) ;;
  "") packages+=("${test_packages[@]}") ;;
  *) echo "usage: $0 [--build-only]" >&2; exit 64 ;;
esac

if [ "$(id -u)" -ne 0 ]; then
  sudo=sudo
else
  sudo=
fi

missing=()
for package in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$package")
  fi
done

if [ "${#missing[@]}" -eq 0 ]; then
  echo "install-deps: all ${#packages[@]} packages are installed"
  exit 0
fi

echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -q
$sudo apt-get install -y -q --no-install-recommends "${missing[@]}"
