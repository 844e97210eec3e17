#!/usr/bin/env bash
# CI: proves the release tarball runs on its own. Builds it (npm run release) unless one is given, unpacks it into
# an empty directory, and there, with no network (a fresh network namespace with only loopback, when unshare is
# available) and no access to this checkout: `bin/autocore-gateway start`, `health` exits 0, `backup` works,
# SIGTERM exits 0. Then the same for each single executable beside the tarball (linux-x64 natively, linux-arm64
# under qemu-aarch64-static), copied alone into an empty directory: its checksum, `file`, --version, a device it
# provisions connects and its telemetry is stored, SIGTERM exits 0; with the figures (size raw and gzipped,
# start-to-healthy, idle RSS beside `npm start`'s). Ends with the plain line "N passed, N failed".
#   scripts/ci-release-check.sh [artifacts/autocore-gateway-*.tgz]
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
tarball=${1:-}
if [ -z "$tarball" ]; then
  (cd "$root" && npm run --silent release) || { echo "release build failed"; echo "0 passed, 1 failed"; exit 1; }
  tarball=$(ls -t "$root"/artifacts/autocore-gateway-*.tgz | head -1)
fi
work=$(mktemp -d /tmp/autocore-release-check.XXXXXX)
trap 'rm -rf "$work"' EXIT
tar -xzf "$tarball" -C "$work" || { echo "cannot unpack $tarball"; echo "0 passed, 1 failed"; exit 1; }
app=$(ls -d "$work"/autocore-gateway-*/)

cat > "$work/check.sh" <<'CHECK'
set -u
app=$1 work=$2
pass=0 fail=0
ok () { echo "ok - $1"; pass=$((pass + 1)); }
no () { echo "not ok - $1"; fail=$((fail + 1)); }
ip link set lo up 2>/dev/null || true
# Nothing from the build machine's environment: the system node on a bare PATH, a fresh data dir, loopback ports.
export PATH=/usr/local/bin:/usr/bin:/bin HOME=$work
export AUTOCORE_DATA_DIR=$work/data AUTOCORE_MQTT_HOST=127.0.0.1 AUTOCORE_HTTP_HOST=127.0.0.1 AUTOCORE_MQTT_PORT=$3 AUTOCORE_HTTP_PORT=$4 AUTOCORE_LOG_PRETTY=never
cd "$work"
"$app/bin/autocore-gateway" start > "$work/gateway.log" 2>&1 &
gw=$!
if "$app/bin/autocore-gateway" health --wait 60000 --timeout 2000 > "$work/health.out"; then ok "health exits 0: $(cat "$work/health.out")"; else no "health: $(cat "$work/health.out")"; fi
# The panel ships in the bundle: / is its page and the script it names loads, all from the unpacked directory.
if node -e '
  const base = "http://127.0.0.1:" + process.argv[1]
  fetch(base + "/").then(async r => {
    const html = await r.text()
    const js = /src="(\/assets\/[^"]+\.js)"/.exec(html)?.[1]
    if (r.status !== 200 || js === undefined) throw new Error("GET / answered " + r.status)
    const a = await fetch(base + js)
    if (a.status !== 200 || !/javascript/.test(a.headers.get("content-type"))) throw new Error(js + " answered " + a.status)
    console.log("panel at / loads " + js + " (" + (await a.arrayBuffer()).byteLength + " bytes)")
  }).catch(e => { console.log(e.message); process.exit(1) })' "$4" > "$work/panel.out" 2>&1; then ok "$(cat "$work/panel.out")"; else no "panel: $(cat "$work/panel.out")"; fi
if "$app/bin/autocore-gateway" backup > "$work/backup.out" 2>&1; then ok "$(cat "$work/backup.out")"; else no "backup: $(cat "$work/backup.out")"; fi
if "$app/bin/autocore-gateway" health --warn disk-free=1MB,backup-age=1h --crit backup-age=1d > "$work/nagios.out"; then ok "health --warn/--crit exits 0: $(cut -d'|' -f1 "$work/nagios.out")"; else no "health --warn/--crit: $(cat "$work/nagios.out")"; fi
kill -TERM "$gw"
wait "$gw"; code=$?
if [ "$code" = 0 ]; then ok "SIGTERM: exit 0"; else no "SIGTERM: exit $code"; tail -20 "$work/gateway.log"; fi
if grep -q '"gateway stopped"' "$work/gateway.log"; then ok "clean stop logged"; else no "no 'gateway stopped' in the log"; fi
echo "$pass passed, $fail failed"
[ "$fail" = 0 ]
CHECK

if unshare -rn true 2>/dev/null; then
  netns=(unshare -rn)
  echo "# running in a network namespace with only loopback (no network)"
else
  netns=()
  echo "# unshare unavailable: running on this machine's network"
fi
free_ports () { # free_ports N: N free TCP ports on the loopback
  node -e '
    const net = require("net"); const ports = []; let left = Number(process.argv[1])
    for (let i = 0; i < Number(process.argv[1]); i++) {
      const s = net.createServer().listen(0, "127.0.0.1", () => {
        ports.push(s.address().port); s.close(); if (--left === 0) console.log(ports.join(" "))
      })
    }' "$1"
}
total_pass=0 total_fail=0
tally () { # tally LOG: adds the log's last "N passed, N failed" line to the totals
  local line
  line=$(grep -E '^[0-9]+ passed, [0-9]+ failed$' "$1" | tail -1)
  if [ -z "$line" ]; then total_fail=$((total_fail + 1)); return; fi
  total_pass=$((total_pass + $(cut -d' ' -f1 <<<"$line")))
  total_fail=$((total_fail + $(cut -d' ' -f3 <<<"$line")))
}

# shellcheck disable=SC2046
"${netns[@]}" bash "$work/check.sh" "$app" "$work" $(free_ports 2) 2>&1 | tee "$work/tarball.log"
tally "$work/tarball.log"

# The single executables, from beside the tarball.
artifacts=$(dirname "$tarball")
for target in linux-x64 linux-arm64; do
  exe="$artifacts/autocore-gateway-$target"
  if [ ! -f "$exe" ]; then echo "not ok - $exe missing"; total_fail=$((total_fail + 1)); continue; fi
  echo "# $target"
  bash "$root/scripts/ci-binary-check.sh" "$exe" "$target" "$(free_ports 4)" "${netns[@]}" 2>&1 \
    | tee "$work/$target.log"
  tally "$work/$target.log"
done
echo "$total_pass passed, $total_fail failed"
[ "$total_fail" = 0 ]
