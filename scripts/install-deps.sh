#!/usr/bin/env bash
# Installs the Debian packages the project needs, only those missing (a fresh machine of this kind has
# Swift and Python, not these). Idempotent; quiet when everything is there.
set -euo pipefail
packages=(libsqlite3-dev sqlite3 tzdata pcscd libpcsclite-dev vsmartcard-vpcd python3 python3-pyscard openssl iproute2 procps poppler-utils zbar-tools)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "installing: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >/dev/null
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
