#!/usr/bin/env bash
# Installs Debian's Chromium and ChromeDriver for the report's browser test,
# when they are missing. Needs root (or sudo) and Debian's package mirror.
set -euo pipefail
if command -v chromium >/dev/null 2>&1 && command -v chromedriver >/dev/null 2>&1; then
  exit 0
fi
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then
    SUDO=sudo
  else
    echo "error: the browser test needs chromium and chromium-driver;" \
         "install them as root: apt-get install -y chromium chromium-driver" >&2
    exit 1
  fi
fi
echo "Installing chromium and chromium-driver for the browser test..."
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium chromium-driver >/dev/null
