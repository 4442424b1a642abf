#!/usr/bin/env bash
# Installs every build and test dependency of drive from Debian's packages.
# Idempotent and non-interactive: packages already present are skipped, and
# apt is only touched when something is missing.
set -euo pipefail

packages=(
  build-essential cmake pkg-config
  flex bison
  llvm-19-dev
  libcmocka-dev libedit-dev
  clang-19 libclang-rt-19-dev valgrind tmux
  gnuplot-nox graphviz
  python3 python3-numpy
)

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#packages[@]} packages present"
  exit 0
fi

echo "install-deps: installing ${missing[*]}"
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null || { echo "install-deps: run as root (or install sudo)" >&2; exit 1; }
  SUDO="sudo -n" # never wait for a password prompt: fail with sudo's message
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
