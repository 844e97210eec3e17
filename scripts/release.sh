#!/usr/bin/env bash
# npm run release: one tarball (artifacts/autocore-gateway-<version>-<platform>-node<major>.tgz) holding dist/ (with the built panel),
# the production node_modules, config/, systemd/, scripts/install.sh and the bin/autocore-gateway launcher.
# Unpack and run: nothing is compiled on the target when it has the same OS/arch and Node.js major as this
# machine. Then the single executables (scripts/build-binary.ts): artifacts/autocore-gateway-linux-x64 and
# autocore-gateway-linux-arm64, Node.js included, for a Raspberry Pi too. Each artifact gets a .sha256 beside it.
# RELEASE_TARGETS="linux-x64" limits the executables built (default: both).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

version=$(node -p 'require("./package.json").version')
platform=$(node -p 'process.platform + "-" + process.arch')
major=$(node -p 'process.versions.node.split(".")[0]')
name="autocore-gateway-$version-$platform-node$major"
out=${RELEASE_OUT:-$root/artifacts}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
stage="$tmp/$name"

echo "release: building $name"
npm run --silent build
mkdir -p "$stage/dist" "$stage/scripts" "$out"
cp -r dist/src dist/entities "$stage/dist/"
# The browser panel, bundled by the build (scripts/build-panel.ts): served at / from the bundle, no network needed.
[ -f dist/panel/index.html ] || { echo "release: dist/panel/index.html missing (the panel build failed?)"; exit 1; }
cp -r dist/panel "$stage/dist/"
cp -r bin config systemd patches package.json package-lock.json README.md "$stage/"
cp scripts/install.sh scripts/README.md "$stage/scripts/"
# The README's reference pages and picture: config/ and systemd/ carry theirs already.
mkdir -p "$stage/src" && cp src/README.md "$stage/src/" && cp -r docs "$stage/"
cat > "$stage/RELEASE.json" <<JSON
{ "version": "$version", "platform": "$platform", "node": "$(node -p process.versions.node)", "abi": "$(node -p process.versions.modules)",
  "commit": "$(git rev-parse --short HEAD 2>/dev/null || echo unknown)", "built": "$(date -u +%Y-%m-%dT%H:%M:%SZ)" }
JSON

# Production dependencies exactly as locked. Install scripts are skipped: classic-level ships prebuilds for every
# platform, and better-sqlite3's compile (~90 s) is avoided by taking the module the dev install already built
# when it is the same version for this same Node.js; otherwise it is rebuilt here.
(cd "$stage" && npm ci --omit=dev --ignore-scripts --no-audit --no-fund --prefer-offline --loglevel=error)
# --ignore-scripts skips the postinstall that applies patches/ (the MQTT fixes to aedes, aedes-persistence-level and
# mqtt-packet, README "MQTT behaviour"): applied here, and the release fails if one does not apply.
(cd "$stage" && node_modules/.bin/patch-package --error-on-fail)
built="$root/node_modules/better-sqlite3/build/Release/better_sqlite3.node"
want=$(node -p "require('$stage/node_modules/better-sqlite3/package.json').version")
have=$(node -p "try { require('$root/node_modules/better-sqlite3/package.json').version } catch { '' }")
if [ -f "$built" ] && [ "$want" = "$have" ]; then
  mkdir -p "$stage/node_modules/better-sqlite3/build/Release"
  cp "$built" "$stage/node_modules/better-sqlite3/build/Release/"
else
  echo "release: compiling better-sqlite3 $want (dev install has '${have}')"
  (cd "$stage" && npm rebuild better-sqlite3 --loglevel=error)
fi
# Prove the native module loads from the stage before shipping it.
(cd "$stage" && node -e "new (require('better-sqlite3'))(':memory:').prepare('select 1').get()")

tar -C "$tmp" -czf "$out/$name.tgz" "$name"
echo "release: $out/$name.tgz ($(du -h "$out/$name.tgz" | cut -f1))"
(cd "$out" && sha256sum "$name.tgz" > "$name.tgz.sha256")

targets=()
for t in ${RELEASE_TARGETS:-linux-x64 linux-arm64}; do targets+=(--target "$t"); done
node dist/scripts/build-binary.js --out "$out" "${targets[@]}"
