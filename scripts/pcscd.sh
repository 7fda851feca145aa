#!/usr/bin/env bash
# A pcscd for the tests, with one vpcd reader entry on a test port (start|stop|status).
#
#   scripts/pcscd.sh start    # starts `pcscd --foreground --config DIR` in the background, waits until vpcd listens
#   scripts/pcscd.sh stop     # stops that pcscd (SIGTERM, then SIGKILL after 5 s)
#   scripts/pcscd.sh status   # exit 0 when it runs and vpcd listens
#
# The entry gives two readers: "HDF Test VPCD 00 00" on port HDF_VPCD_PORT (default 45963) and
# "HDF Test VPCD 00 01" on HDF_VPCD_PORT+1. --config replaces /etc/reader.conf.d, so Debian's default
# vpcd reader (35963) is not there. Installs nothing (scripts/install-deps.sh does).
# Readiness is checked with `ss -ltn`, never by connecting: any TCP connection to a vpcd port is a card insertion.
# Only one pcscd runs per machine (its socket is /run/pcscd/pcscd.comm): start refuses when another one runs.
set -euo pipefail
port=${HDF_VPCD_PORT:-45963}
dir=${HDF_PCSCD_DIR:-${TMPDIR:-/tmp}/hdf-pcscd-$port}
pidfile=$dir/pcscd.pid
logfile=$dir/pcscd.log

listening() { ss -ltnH "sport = :$1" 2>/dev/null | grep -q .; }
ours() { [ -f "$pidfile" ] && kill -0 "$(cat "$pidfile")" 2>/dev/null; }

start() {
  if ours; then
    echo "pcscd already running (PID $(cat "$pidfile")), vpcd on ports $port and $((port + 1))"
    return 0
  fi
  if other=$(pgrep -x pcscd); then
    echo "pcscd.sh: another pcscd is running (PID $(echo $other)); only one can run per machine: stop it first" >&2
    return 1
  fi
  command -v pcscd >/dev/null || { echo "pcscd.sh: pcscd is not installed (scripts/install-deps.sh)" >&2; return 1; }
  driver=/usr/lib/pcsc/drivers/serial/libifdvpcd.so
  [ -e "$driver" ] || { echo "pcscd.sh: $driver missing (package vsmartcard-vpcd)" >&2; return 1; }
  if listening "$port" || listening "$((port + 1))"; then
    echo "pcscd.sh: port $port or $((port + 1)) is already in use" >&2
    return 1
  fi
  mkdir -p "$dir/conf"
  cat >"$dir/conf/hdf-vpcd" <<CONF
FRIENDLYNAME "HDF Test VPCD"
DEVICENAME /dev/null:$port
LIBPATH $driver
CHANNELID $port
CONF
  pcscd --foreground --config "$dir/conf" >"$logfile" 2>&1 &
  echo $! >"$pidfile"
  for _ in $(seq 1 100); do
    if listening "$port" && listening "$((port + 1))"; then
      echo "pcscd started (PID $(cat "$pidfile")): readers 'HDF Test VPCD 00 00' (vpcd port $port) and 'HDF Test VPCD 00 01' ($((port + 1))); log $logfile"
      return 0
    fi
    if ! ours; then
      echo "pcscd.sh: pcscd exited at start; its log ($logfile):" >&2
      cat "$logfile" >&2
      rm -f "$pidfile"
      return 1
    fi
    sleep 0.05
  done
  echo "pcscd.sh: vpcd did not listen on $port within 5 s; log:" >&2
  cat "$logfile" >&2
  stop
  return 1
}

stop() {
  if ! [ -f "$pidfile" ]; then
    echo "pcscd not started by pcscd.sh"
    return 0
  fi
  pid=$(cat "$pidfile")
  if kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid"
    for _ in $(seq 1 100); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.05
    done
    if kill -0 "$pid" 2>/dev/null; then
      kill -KILL "$pid" 2>/dev/null || true
    fi
  fi
  rm -f "$pidfile"
  echo "pcscd stopped (PID $pid)"
}

status() {
  if ours && listening "$port"; then
    echo "pcscd running (PID $(cat "$pidfile")), vpcd listening on $port and $((port + 1))"
    return 0
  fi
  echo "pcscd (pcscd.sh, port $port) not running"
  return 1
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  status) status ;;
  *) echo "usage: $0 start|stop|status" >&2; exit 2 ;;
esac
