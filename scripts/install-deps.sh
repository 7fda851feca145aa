#!/usr/bin/env bash
# Installs the Debian packages the project needs, only those missing (a fresh machine of this kind has
# Swift and Python, not these). Idempotent; quiet when everything is there.
set -euo pipefail
packages=(libsqlite3-dev sqlite3 tzdata pcscd libpcsclite-dev vsmartcard-vpcd python3 python3-pyscard openssl iproute2 procps poppler-utils zbar-tools libxml2-utils
          python3-aiosmtpd chromium chromium-driver python3-selenium python3-pytest)
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

# --- (issue 12) the ISO 20022 pain.001.001.03 schema, to validate reimbursement files with xmllint ---
# Taken out of the PyPI wheel of `sepaxml` (which ships the XSD) into an ignored folder; never committed.
sepa_xsd="$(cd "$(dirname "$0")/.." && pwd)/var/third_party/sepaxml/pain.001.001.03.xsd"
if [ ! -s "$sepa_xsd" ]; then
  mkdir -p "$(dirname "$sepa_xsd")"
  sepa_tmp="$(mktemp -d)"
  python3 -m pip download --quiet --no-deps --dest "$sepa_tmp" "sepaxml==2.7.0" >/dev/null
  python3 - "$sepa_tmp" "$sepa_xsd" <<'EOF_SEPA'
import glob, sys, zipfile
wheel = glob.glob(sys.argv[1] + "/sepaxml-*.whl")[0]
with zipfile.ZipFile(wheel) as archive, open(sys.argv[2] + ".tmp", "wb") as out:
    out.write(archive.read("sepaxml/schemas/pain.001.001.03.xsd"))
EOF_SEPA
  mv "$sepa_xsd.tmp" "$sepa_xsd"
  rm -rf "$sepa_tmp"
fi
# --- end (issue 12) ---
# --- web space tests (issue 9): axe-core 4 for the browser harness, taken out of the PyPI wheel
# axe-playwright-python into var/third_party/ (ignored by git, never committed). Idempotent.
axe_target="$(cd "$(dirname "$0")/.." && pwd)/var/third_party/axe.min.js"
if [ ! -s "$axe_target" ]; then
  echo "fetching axe-core (axe-playwright-python wheel)"
  axe_tmp=$(mktemp -d)
  python3 -m pip download --quiet --no-deps --dest "$axe_tmp" "axe-playwright-python==0.1.8"
  mkdir -p "$(dirname "$axe_target")"
  /usr/bin/python3 -c 'import sys, zipfile, glob; w = glob.glob(sys.argv[1] + "/*.whl")[0]; open(sys.argv[2], "wb").write(zipfile.ZipFile(w).read("axe_playwright_python/axe.min.js"))' "$axe_tmp" "$axe_target.part"
  mv "$axe_target.part" "$axe_target"
  rm -rf "$axe_tmp"
fi
# --- end web space tests
