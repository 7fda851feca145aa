#!/usr/bin/env bash
# `make run`: creates the demo environment on first use, then serves it until Ctrl-C: the gateway on
# HOST:PORT and the beneficiary web space on http://WEB_HOST:WEB_PORT/ (contract §1).
set -euo pipefail
cd "$(dirname "$0")/.."
dir=${1:-var/demo}; host=${2:-127.0.0.1}; port=${3:-8583}; web_host=${4:-127.0.0.1}; web_port=${5:-8080}
bin=$(swift build --show-bin-path)
gateway=$bin/gateway
beneficiary=$bin/beneficiary
if [ ! -f "$dir/ledger.sqlite" ]; then
  mkdir -p "$(dirname "$dir")"
  "$gateway" demo --dir "$dir"
fi
pan=$(python3 -c 'import json,sys; m=json.load(open(sys.argv[1])); print(next(c["pan"] for c in m["cards"] if c["status"]=="active"))' "$dir/demo.json")
login=$(python3 -c '
import json, sys
m = json.load(open(sys.argv[1]))
b = next((c["beneficiary"] for c in m["cards"] if c["status"] == "active" and c["beneficiary"].get("password")), None)
print("identifier %s, password %s" % (b["dossier"], b["password"]) if b else
      "this demo predates the web space: recreate it with  gateway demo --dir %s --force" % sys.argv[2])' "$dir/demo.json" "$dir")
cat <<EOT
manifest: $dir/demo.json (partners, terminals and their certificates, cards with their keys)
try a payment (another shell):
  python3 protocol/examples/terminal.py purchase --manifest $dir/demo.json --terminal T001 --card $pan --amount 1250
metrics: the gateway prints its address at start ("metrics on http://127.0.0.1:N/metrics", any free port)
beneficiary web space: http://$web_host:$web_port/  (demo login: $login)
EOT
# nice 10: on a shared host a payment comes before a page (docs/bench.md)
nice -n 10 "$beneficiary" serve --dir "$dir" --host "$web_host" --port "$web_port" &
web=$!
trap 'kill "$web" 2>/dev/null || true; wait "$web" 2>/dev/null || true' EXIT INT TERM
"$gateway" serve --dir "$dir" --host "$host" --port "$port"
