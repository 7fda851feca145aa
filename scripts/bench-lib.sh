# Shared by scripts/bench.sh, bench-scaling.sh and bench-long.sh (sourced): starting and stopping a server
# process, reading a run's `result` line.
SERVER_PID=""

stop_server() {
    if [[ -n "$SERVER_PID" ]]; then
        kill -TERM "$SERVER_PID" 2>/dev/null || true
        for _ in $(seq 1 100); do kill -0 "$SERVER_PID" 2>/dev/null || break; sleep 0.1; done
        kill -KILL "$SERVER_PID" 2>/dev/null || true
        wait "$SERVER_PID" 2>/dev/null || true
        SERVER_PID=""
    fi
}

# Starts "$@" in the background (its output in $1's log), waits for its line "<what> ready on HOST:PORT",
# sets SERVER_PID and SERVER_PORT.
start_server() {
    local log=$1 what=$2; shift 2
    "$@" >"$log" 2>&1 &
    SERVER_PID=$!
    local line=""
    for _ in $(seq 1 300); do
        line=$(grep -m1 "$what ready on " "$log" 2>/dev/null || true)
        [[ -n "$line" ]] && break
        kill -0 "$SERVER_PID" 2>/dev/null || break
        sleep 0.1
    done
    if [[ -z "$line" ]]; then
        echo "bench: $what did not start:" >&2; cat "$log" >&2; exit 1
    fi
    SERVER_PORT=${line##*:}
}

# The value of KEY=VALUE on the `result NAME ...` line of a run's output.
field() { grep "^result $1 " "$2" | tr ' ' '\n' | sed -n "s/^$3=//p"; }
