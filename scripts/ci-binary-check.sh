#!/usr/bin/env bash
# CI (called by scripts/ci-release-check.sh): one single executable, copied alone into an empty directory, run
# with no network (the command after TARGET, e.g. `unshare -rn`, wraps the run) and no checkout: the checksum,
# `file` naming the target's CPU, --version, `device add` by the executable's own CLI, start, health exits 0, that
# device connects over MQTT (MQTT.js from this checkout) and its reading is stored, SIGTERM exits 0. linux-arm64
# runs under qemu-aarch64-static on another CPU. Prints figures (size raw and gzipped, start-to-healthy, idle RSS;
# for linux-x64, `npm start`'s process beside it) and ends with the plain line "N passed, N failed".
# PORTS: four free TCP ports (the executable's MQTT and HTTP, then those of `npm start`'s process).
#   scripts/ci-binary-check.sh artifacts/autocore-gateway-linux-arm64 linux-arm64 "PORTS" [unshare -rn]
set -uo pipefail
exe=$1 target=$2 ports=$3
shift 3
root=$(cd "$(dirname "$0")/.." && pwd)
name=$(basename "$exe")
work=$(mktemp -d /tmp/autocore-binary-check.XXXXXX)
trap 'rm -rf "$work"' EXIT
pass=0 fail=0
ok () { echo "ok - $1"; pass=$((pass + 1)); }
no () { echo "not ok - $1"; fail=$((fail + 1)); }

cpu=$([ "$target" = linux-arm64 ] && echo 'ARM aarch64' || echo 'x86-64')
if file -L "$exe" | grep -q "ELF 64-bit LSB .*$cpu"; then ok "file: $cpu ELF"; else no "file: $(file -L "$exe")"; fi
if (cd "$(dirname "$exe")" && sha256sum --quiet -c "$name.sha256"); then ok "$name.sha256 matches"
else no "$name.sha256"; fi
echo "# figure: $target size $(stat -c %s "$exe") bytes raw, $(gzip -c "$exe" | wc -c) bytes gzipped"

run=""
if [ "$target" = linux-arm64 ] && [ "$(uname -m)" != aarch64 ]; then
  if ! command -v qemu-aarch64-static >/dev/null; then
    no "qemu-aarch64-static missing"; echo "$pass passed, $fail failed"; exit 1
  fi
  run="qemu-aarch64-static -L /usr/aarch64-linux-gnu"
fi
mkdir -p "$work/alone" "$work/home"
cp "$exe" "$work/alone/"

# The test side: MQTT.js and better-sqlite3 from this checkout (the executable's directory has neither).
cat > "$work/client.cjs" <<'CLIENT'
const [what, ...args] = process.argv.slice(2)
const req = require('node:module').createRequire(process.env.CHECKOUT + '/package.json')
async function main () {
  if (what === 'healthy') { // healthy PORT TIMEOUT_MS START_MS: ms from START_MS (epoch) until GET /health is 200
    const until = Date.now() + Number(args[1])
    while (Date.now() < until) {
      const r = await fetch(`http://127.0.0.1:${args[0]}/health`).catch(() => undefined)
      if (r?.status === 200) return console.log(Date.now() - Number(args[2]))
      await new Promise(resolve => setTimeout(resolve, 100))
    }
    throw new Error('not healthy in time')
  }
  if (what === 'publish') { // publish PORT UUID SECRET
    const c = await req('mqtt').connectAsync(`mqtt://127.0.0.1:${args[0]}`,
      { clientId: args[1], username: args[1], password: args[2], reconnectPeriod: 0 })
    await c.publishAsync(`autocore/devices/${args[1]}/telemetry`, JSON.stringify({ temp: 21.5 }), { qos: 1 })
    return c.endAsync()
  }
  if (what === 'stored') { // stored DB UUID: the device's readings
    const db = new (req('better-sqlite3'))(args[0], { readonly: true })
    const sql = 'SELECT t.key, t.value FROM telemetry_data t JOIN devices d ON d.id = t.device_id WHERE d.uuid = ?'
    console.log(JSON.stringify(db.prepare(sql).all(args[1])))
  }
}
main().catch(e => { console.log(e.message); process.exit(1) })
CLIENT

cat > "$work/check.sh" <<'CHECK'
set -u
work=$1 name=$2 target=$3 run=$4 pass=$5 fail=$6 mport=$7 hport=$8 mport2=$9 hport2=${10}
ok () { echo "ok - $1"; pass=$((pass + 1)); }
no () { echo "not ok - $1"; fail=$((fail + 1)); }
ip link set lo up 2>/dev/null || true
export PATH=/usr/local/bin:/usr/bin:/bin HOME=$work/home AUTOCORE_LOG_PRETTY=never
export AUTOCORE_DATA_DIR=$work/data AUTOCORE_MQTT_HOST=127.0.0.1 AUTOCORE_HTTP_HOST=127.0.0.1
export AUTOCORE_MQTT_PORT=$mport AUTOCORE_HTTP_PORT=$hport
cd "$work/alone"
# shellcheck disable=SC2086
gw () { $run "./$name" "$@"; }
[ "$(ls -A)" = "$name" ] && ok "alone in its directory" || no "directory holds $(ls -A)"
if gw --version > "$work/version.out" 2>&1 && grep -q "$target" "$work/version.out"
then ok "--version: $(tr '\n' ' ' < "$work/version.out")"; else no "--version: $(cat "$work/version.out")"; fi
if gw device add --name cabin --type sensor --json > "$work/device.json" 2> "$work/device.err"; then ok "device add"
else no "device add: $(cat "$work/device.err")"; fi
uuid=$(node -p 'JSON.parse(require("fs").readFileSync(process.argv[1])).uuid' "$work/device.json" 2>/dev/null)
secret=$(node -p 'JSON.parse(require("fs").readFileSync(process.argv[1])).secret' "$work/device.json" 2>/dev/null)

t0=$(date +%s%3N)
# Not through gw: $! must be the gateway's own pid (its RSS, its exit code).
# shellcheck disable=SC2086
$run "./$name" start > "$work/gateway.log" 2>&1 &
pid=$!
if ms=$(node "$work/client.cjs" healthy "$hport" 600000 "$t0"); then
  ok "GET /health 200"
  echo "# figure: $target start-to-healthy ${ms} ms${run:+ (under qemu-aarch64-static)}"
else no "never healthy: $ms"; tail -20 "$work/gateway.log"; fi
if gw health --timeout 20000 > "$work/health.out" 2>&1; then ok "health exits 0"
else no "health: $(cat "$work/health.out")"; fi
sleep 5
rss () { awk '/VmRSS/ {print $2}' "/proc/$1/status"; }
echo "# figure: $target idle RSS $(rss "$pid") kB${run:+ (the qemu process: emulator included)}"
if [ -z "$run" ]; then
  # `npm start` runs `node dist/src/main.js start` after a build: that process, from the checkout, on other ports.
  AUTOCORE_DATA_DIR=$work/data-npm AUTOCORE_MQTT_PORT=$mport2 AUTOCORE_HTTP_PORT=$hport2 \
    node "$CHECKOUT/dist/src/main.js" start > "$work/npm.log" 2>&1 &
  npm_pid=$!
  t1=$(date +%s%3N)
  if ms=$(node "$work/client.cjs" healthy "$hport2" 600000 "$t1"); then
    sleep 5
    echo "# figure: npm start (node dist/src/main.js) start-to-healthy ${ms} ms, idle RSS $(rss "$npm_pid") kB"
  fi
  kill -TERM "$npm_pid"; wait "$npm_pid"
fi
if out=$(node "$work/client.cjs" publish "$mport" "$uuid" "$secret" 2>&1)
then ok "the device connects and publishes (QoS 1, PUBACK)"; else no "device: $out"; fi
kill -TERM "$pid"
wait "$pid"; code=$?
if [ "$code" = 0 ]; then ok "SIGTERM: exit 0"; else no "SIGTERM: exit $code"; tail -20 "$work/gateway.log"; fi
stored=$(node "$work/client.cjs" stored "$work/data/autocore.db" "$uuid" 2>&1)
if [ "$stored" = '[{"key":"temp","value":21.5}]' ]; then ok "its reading is stored"; else no "stored: $stored"; fi
echo "$pass passed, $fail failed"
[ "$fail" = 0 ]
CHECK

# shellcheck disable=SC2086
CHECKOUT=$root "$@" bash "$work/check.sh" "$work" "$name" "$target" "$run" "$pass" "$fail" $ports
