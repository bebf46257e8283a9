#!/usr/bin/env bash
# Installs whatever Courier's build, tests and benchmarks need from Debian's
# packages. Idempotent: it installs only what is missing and refreshes the
# package lists only when it has something to install.
set -euo pipefail

packages=(
  cmake ninja-build g++ ccache pkg-config
  libconcurrentqueue-dev libfmt-dev libmimalloc-dev libbenchmark-dev catch2
  libcaf-dev libzmq3-dev
  gnuplot-nox
  nlohmann-json3-dev libnats-dev nats-server
)

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then
    as_root=(sudo)
  else
    echo "setup: these packages are missing: ${missing[*]}" >&2
    echo "setup: run this script as root (or install them with apt-get) and try again." >&2
    exit 1
  fi
else
  as_root=()
fi

echo "setup: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
"${as_root[@]}" apt-get update -q
"${as_root[@]}" apt-get install -y -q --no-install-recommends "${missing[@]}"
