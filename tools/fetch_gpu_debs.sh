#!/usr/bin/env bash
# Downloads, on a Debian 12 machine with apt, the .deb files that tools/gpu_check.sh unpacks on
# the GPU machine (which has no package manager and no network): the -dev packages omnirm
# builds against, the runtime libraries they depend on, and pkgconf in case pkg-config is absent
# there. Files land in <repo>/.debs/ (replaced on every run); nothing is installed.
#   tools/fetch_gpu_debs.sh
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
DEB_DIR="$ROOT/.debs"

DEV_PACKAGES=(
  libsentencepiece-dev libyaml-cpp-dev libsimdjson-dev libfmt-dev libcli11-dev
  nlohmann-json3-dev libgtest-dev libgmock-dev pkgconf-bin libgloo-dev zlib1g-dev
  libpcre2-dev libutf8proc-dev
)
# Dependencies every Linux machine has, or that building does not need (googletest is the
# source tree that libgtest-dev points at).
SKIP_DEPENDENCIES=" libc6 libc-dev libc6-dev libgcc-s1 libstdc++6 googletest libgtest-dev "

say() { printf '[fetch_gpu_debs] %s\n' "$*"; }
die() { printf '[fetch_gpu_debs] error: %s\n' "$*" >&2; exit 1; }

command -v apt-get >/dev/null || die "apt-get not found: run this on Debian 12"
command -v apt-cache >/dev/null || die "apt-cache not found: run this on Debian 12"

# The direct Depends of one package, minus the ones skipped above.
runtime_dependencies() {
  apt-cache depends --no-recommends --no-suggests --no-conflicts --no-breaks --no-replaces \
      --no-enhances "$1" |
    awk '$1 == "Depends:" { print $2 }' | tr -d '<>' | while read -r dep; do
      case "$SKIP_DEPENDENCIES" in
        *" $dep "*) ;;
        *) echo "$dep" ;;
      esac
    done
}

packages=()
for package in "${DEV_PACKAGES[@]}"; do
  apt-cache show "$package" >/dev/null 2>&1 ||
    die "package $package is unknown to apt: run apt-get update, or check the apt sources"
  packages+=("$package")
  while read -r dep; do
    [ -n "$dep" ] && packages+=("$dep")
  done < <(runtime_dependencies "$package")
done
mapfile -t packages < <(printf '%s\n' "${packages[@]}" | sort -u)

rm -rf "$DEB_DIR"
mkdir -p "$DEB_DIR"
say "downloading ${#packages[@]} packages: ${packages[*]}"
(cd "$DEB_DIR" && apt-get download -q "${packages[@]}") ||
  die "apt-get download failed: check the network or the apt sources"

count=$(find "$DEB_DIR" -maxdepth 1 -name '*.deb' | wc -l)
[ "$count" -eq "${#packages[@]}" ] ||
  die "expected ${#packages[@]} .deb files in $DEB_DIR, found $count"
say "ready: $count files, $(du -sh "$DEB_DIR" | cut -f1) in $DEB_DIR"
