#!/usr/bin/env bash
# Many chargers on one machine (#20 item 4): G gateway processes on one Redis (AOF everysec),
# one idle generator and one meter generator per gateway, each in its own process (a process may
# hold 20,000 open files here). Idle chargers boot and heartbeat; once the ramp is over, the meter
# generators run transactions sending MeterValues while the idle ones are held. Prints sockets,
# RSS and CPU per gateway, Redis memory and the generators' reports (in $OUT).
#
#   cargo build --release -p chargegrid
#   simulations/scale/many-gateways.sh target/release/chargegrid 6 16700 150 150 167 20,100
#
# usage: many-gateways.sh BIN GATEWAYS CHARGERS_PER_GATEWAY CONNECT_RATE HOLD_S METER_CONNS RATES [OUT]
set -uo pipefail
BIN=$(realpath "$1"); G=$2; PER=$3; RATE=$4; HOLD=$5; METER=$6; RATES=$7
OUT=${8:-${TMPDIR:-/tmp}/chargegrid-many-gateways}
PORT=${REDIS_PORT:-6391}
# All generators connect from loopback: one address stands for a carrier NAT.
export CHARGEGRID_OCPP_MAX_CONNECTIONS_PER_IP=20000
rm -rf "$OUT"; mkdir -p "$OUT"
redis-server --port "$PORT" --dir "$OUT" --appendonly yes --appendfsync everysec --save "" \
  --daemonize yes --pidfile "$OUT/redis.pid" >/dev/null
sleep 0.5
RPID=$(cat "$OUT/redis.pid")
cpu() { awk '{print ($14+$15)/100}' "/proc/$1/stat"; }
GW=(); GENS=()
for k in $(seq 1 "$G"); do
  mkdir -p "$OUT/gw$k"
  (cd "$OUT/gw$k" && exec "$BIN" gateway --allow-unknown-chargers --accept-unknown-id-tags \
    --store "redis://127.0.0.1:$PORT/0" --node-id "gw$k" --ocpp-listen "127.0.0.1:96${k}1" \
    --api-listen "127.0.0.1:96${k}2" --metrics-listen "127.0.0.1:96${k}3" > "$OUT/gw$k/log" 2>&1) &
  GW+=($!)
done
sleep 2
for k in $(seq 1 "$G"); do
  "$BIN" simulate load --against "ws://127.0.0.1:96${k}1/ocpp" --pid "${GW[$((k-1))]}" --idle "$PER" \
    --connect-rate "$RATE" --hold-s "$HOLD" --settle-s 30 --meter-connections 0 --prefix "I$k" \
    --json "$OUT/idle$k.json" > "$OUT/idle$k.txt" 2>&1 &
  GENS+=($!)
done
sleep $(( PER / RATE + 10 ))
for k in $(seq 1 "$G"); do
  "$BIN" simulate load --against "ws://127.0.0.1:96${k}1/ocpp" --pid "${GW[$((k-1))]}" --idle 0 \
    --meter-connections "$METER" --rates "$RATES" --step-s 20 --p99-ms 1000 --prefix "M$k" \
    --json "$OUT/meter$k.json" > "$OUT/meter$k.txt" 2>&1 &
  GENS+=($!)
done
sleep 25
echo "while held:"
for p in "${GW[@]}"; do
  echo "  gateway $p: $(ls /proc/$p/fd | wc -l) files, RSS $(awk '/VmRSS/ {print $2}' /proc/$p/status) KiB, CPU $(cpu $p) s"
done
echo "  redis: $(redis-cli -p "$PORT" info memory | awk -F: '/^used_memory_human/ {print $2}' | tr -d '\r'), $(redis-cli -p "$PORT" dbsize) keys, CPU $(cpu "$RPID") s"
wait "${GENS[@]}"
for k in $(seq 1 "$G"); do sed -n 2,3p "$OUT/idle$k.txt"; grep "meter values" "$OUT/meter$k.txt"; done
kill "${GW[@]}"; wait "${GW[@]}" 2>/dev/null
redis-cli -p "$PORT" shutdown nosave >/dev/null 2>&1
