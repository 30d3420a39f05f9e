#!/usr/bin/env bash
# Builds and installs pgvector for PostgreSQL 15. Debian 12 does not package it, so the source comes
# from the Debian archive of a later release, found through the archive's signed index rather than
# a fixed URL. The release file is checked with the Debian archive keyring and the source index
# against the release file. The .dsc and the upstream archive are checked against the checksums of
# the index and of the .dsc. Nothing unchecked is built.
#   scripts/install-pgvector.sh    (run by scripts/install-deps.sh; needs postgresql-server-dev-15)
# PGVECTOR_SUITES lists the suites searched, first match wins (default "bookworm-backports trixie").
set -euo pipefail

pg_config=/usr/lib/postgresql/15/bin/pg_config
if [ -f "$($pg_config --sharedir)/extension/vector.control" ]; then
  echo "install-pgvector: pgvector is installed for PostgreSQL 15"
  exit 0
fi

mirror=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
keyring=/usr/share/keyrings/debian-archive-keyring.gpg
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"

fetch() { curl -fsSL --retry 3 --max-time 300 -o "$2" "$1"; }

# Prints the SHA-256 that a checksum list ("<sha256> <size> <name>" lines) gives for a name.
checksum_of() { awk -v name="$2" '$3 == name { print $1; exit }' "$1"; }

verify() {
  local expected=$1 file=$2
  if [ -z "$expected" ] || [ "$(sha256sum "$file" | cut -d' ' -f1)" != "$expected" ]; then
    echo "install-pgvector: $file does not match its checksum ($expected), so it is not built; run the script again, and if it fails again the mirror ${mirror} serves a damaged file" >&2
    exit 1
  fi
}

stanza=
for suite in ${PGVECTOR_SUITES:-bookworm-backports trixie}; do
  fetch "$mirror/dists/$suite/InRelease" InRelease
  gpgv --keyring "$keyring" InRelease 2>/dev/null || {
    echo "install-pgvector: the signature of $suite/InRelease does not verify with $keyring" >&2
    exit 1
  }
  sed -n '/^SHA256:/,/^[^ ]/p' InRelease > release-sums
  fetch "$mirror/dists/$suite/main/source/Sources.xz" Sources.xz
  verify "$(checksum_of release-sums main/source/Sources.xz)" Sources.xz
  xz -dc Sources.xz | awk 'BEGIN { RS = ""; ORS = "\n\n" } /(^|\n)Package: pgvector\n/' > stanza
  if [ -s stanza ]; then
    stanza=stanza
    break
  fi
done
if [ -z "$stanza" ]; then
  echo "install-pgvector: no pgvector source package in ${PGVECTOR_SUITES:-bookworm-backports trixie}" >&2
  exit 1
fi

version=$(awk '/^Version:/ { print $2; exit }' stanza)
directory=$(awk '/^Directory:/ { print $2; exit }' stanza)
sed -n '/^Checksums-Sha256:/,/^[^ ]/p' stanza > index-sums
dsc=$(awk '$3 ~ /\.dsc$/ { print $3; exit }' index-sums)
fetch "$mirror/$directory/$dsc" "$dsc"
verify "$(checksum_of index-sums "$dsc")" "$dsc"
sed -n '/^Checksums-Sha256:/,/^[^ ]/p' "$dsc" > dsc-sums
orig=$(awk '$3 ~ /\.orig\.tar\./ { print $3; exit }' dsc-sums)
fetch "$mirror/$directory/$orig" "$orig"
verify "$(checksum_of dsc-sums "$orig")" "$orig"
verify "$(checksum_of index-sums "$orig")" "$orig"
echo "install-pgvector: building pgvector $version from $directory/$orig (checksums verified)"

mkdir src
tar -xf "$orig" -C src --strip-components=1
# OPTFLAGS empty: no -march=native, so the library runs on any x86-64 machine it is copied to.
make -C src -s PG_CONFIG=$pg_config OPTFLAGS="" -j "$(nproc)"
if [ "$(id -u)" -ne 0 ]; then sudo=sudo; else sudo=; fi
$sudo make -C src -s PG_CONFIG=$pg_config install
echo "install-pgvector: installed pgvector $version for PostgreSQL 15"
