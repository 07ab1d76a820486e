#!/usr/bin/env bash
# Installs every Debian package cxrtune needs to build, test and benchmark.
# Idempotent: when everything is present it prints one line and returns.
set -euo pipefail

packages=(
  build-essential cmake pkg-config
  libdnnl-dev libdcmtk-dev dcmtk libinsighttoolkit5-dev
  libcli11-dev libyaml-cpp-dev libgtest-dev libgmock-dev
  libpng-dev libjpeg62-turbo-dev libzip-dev nlohmann-json3-dev libfmt-dev libspdlog-dev libopenmpi-dev
  python3-torch python3-torchvision python3-pydicom python3-numpy python3-pil dicom3tools
)
# Optional helpers: a missing one only skips the tests that use it.
optional=(chromium clang libclang-rt-14-dev)

missing=()
for p in "${packages[@]}" "${optional[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "deps: all ${#packages[@]} required packages present"
  exit 0
fi

sudo_cmd=()
[ "$(id -u)" -ne 0 ] && sudo_cmd=(sudo)
export DEBIAN_FRONTEND=noninteractive
echo "deps: installing ${#missing[@]} packages: ${missing[*]}"
"${sudo_cmd[@]}" apt-get update -qq
"${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${packages[@]}" >/dev/null
for p in "${optional[@]}"; do
  "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "$p" >/dev/null 2>&1 \
    || echo "deps: optional package $p unavailable; tests that need it will be skipped"
done
echo "deps: done"
