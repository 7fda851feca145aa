#!/usr/bin/env bash
# `make run`: creates the demo environment on first use, then serves it on HOST:PORT until Ctrl-C.
set -euo pipefail
cd "$(dirname "$0")/.."
dir=${1:-var/demo}; host=${2:-127.0.0.1}; port=${3:-8583}
gateway=$(swift build --show-bin-path)/gateway
if [ ! -f "$dir/ledger.sqlite" ]; then
  mkdir -p "$(dirname "$dir")"
  "$gateway" demo --dir "$dir"
fi
pan=$(python3 -c 'import json,sys; m=json.load(open(sys.argv[1])); print(next(c["pan"] for c in m["cards"] if c["status"]=="active"))' "$dir/demo.json")
cat <<EOT
manifest: $dir/demo.json (partners, terminals and their certificates, cards with their keys)
try a payment (another shell):
  python3 protocol/examples/terminal.py purchase --manifest $dir/demo.json --terminal T001 --card $pan --amount 1250
metrics: the gateway prints its address at start ("metrics on http://127.0.0.1:N/metrics", any free port)
EOT
exec "$gateway" serve --dir "$dir" --host "$host" --port "$port"
