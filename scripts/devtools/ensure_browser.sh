#!/usr/bin/env bash
# The docs browser test drives Debian's Chromium with its ChromeDriver.
# Installs both when absent (needs root or sudo); says what to do otherwise.
set -euo pipefail
if command -v chromium >/dev/null && command -v chromedriver >/dev/null; then
    exit 0
fi
if [ "$(id -u)" -eq 0 ]; then
    sudo=""
elif command -v sudo >/dev/null; then
    sudo="sudo"
else
    echo "error: the docs browser test needs chromium and chromedriver:" \
         "apt-get install -y chromium chromium-driver" >&2
    exit 2
fi
echo "installing Debian's chromium and chromium-driver for the docs browser test"
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq chromium chromium-driver >/dev/null
