#!/usr/bin/env bash
# Installs the Debian packages the test suite uses besides Node: the interpreters that run the original
# documentation's samples (curl, Python requests, PHP with curl), OpenSSH's client and ssh-keygen for real
# SSH keys and logins, QEMU with qemu-img and genisoimage for the qemu driver's real virtual machines, and
# e2fsprogs (e2fsck, debugfs) to read and check the test image's /data on a stopped VM's disk, and chromium,
# which Playwright (playwright-core from npm) drives headless in the web console's tests, and zsh and fish, which
# load and run the command-line tool's completion scripts.
set -euo pipefail
missing=()
command -v curl >/dev/null || missing+=(curl)
{ command -v ssh-keygen >/dev/null && command -v ssh >/dev/null; } || missing+=(openssh-client)
command -v qemu-system-x86_64 >/dev/null || missing+=(qemu-system-x86)
command -v qemu-img >/dev/null || missing+=(qemu-utils)
command -v genisoimage >/dev/null || missing+=(genisoimage)
command -v chromium >/dev/null || missing+=(chromium)
command -v zsh >/dev/null || missing+=(zsh)
command -v fish >/dev/null || missing+=(fish)
[ -x /sbin/debugfs ] || [ -x /usr/sbin/debugfs ] || missing+=(e2fsprogs)
/usr/bin/python3 -c 'import requests' 2>/dev/null || missing+=(python3 python3-requests)
{ command -v php >/dev/null && php -r 'exit(extension_loaded("curl") ? 0 : 1);'; } || missing+=(php-cli php-curl)
if [ ${#missing[@]} -eq 0 ]; then
  echo "test packages: all present"
  exit 0
fi
echo "test packages: installing ${missing[*]}"
sudo=""
[ "$(id -u)" -ne 0 ] && sudo="sudo"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
