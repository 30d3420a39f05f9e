#!/usr/bin/env bash
# Installs the Debian 12 packages the open-notebook binary needs at run time (shared libraries,
# libmagic's database, pdftotext, curl for the health check). The Dockerfile's runtime stage runs
# it; CI runs it too, where everything is already installed and it only checks.
set -euo pipefail

packages=(
  # Shared libraries of the binary (ldd open-notebook, by package)
  libarchive13 libcurl4 libfmt9 libicu72 libmagic1 libmagic-mgc libpugixml1v5 libsodium23
  libspdlog1.10 libsqlite3-0 libstemmer0d libuchardet0 libxml2 libzip4 libzstd1
  # Programs run as child processes, and the health check of deploy/wait-for-health.sh
  poppler-utils curl ca-certificates
)

missing=()
for package in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$package")
  fi
done
if [ "${#missing[@]}" -eq 0 ]; then
  echo "runtime-deps: all ${#packages[@]} packages are installed"
  exit 0
fi

sudo=
if [ "$(id -u)" -ne 0 ]; then sudo=sudo; fi
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -q
$sudo apt-get install -y -q --no-install-recommends "${missing[@]}"
# Keep the image small; on a host this only drops downloaded package files.
$sudo apt-get clean
