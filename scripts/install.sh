#!/usr/bin/env bash
# Installs AutoCore Gateway from an unpacked release bundle (npm run release) as a systemd service.
# Idempotent: running it again upgrades the code in /opt and keeps config and data.
#
#   sudo ./scripts/install.sh                 install or upgrade, enable and (re)start the service
#   sudo ./scripts/install.sh --uninstall     remove the service and /opt/autocore-gateway; keep config, data, user
#   sudo ./scripts/install.sh --uninstall --purge   also remove /etc/autocore, /var/lib/autocore and the user
#   ./scripts/install.sh --dry-run            print every action, change nothing
#   ./scripts/install.sh --root DIR           install into DIR as if it were / (images, tests): the user goes into
#                                             DIR/etc/passwd, units are enabled with systemctl --root, nothing starts
set -euo pipefail

NAME=autocore-gateway
USER_NAME=autocore
ROOT=""
DRY=0
MODE=install
PURGE=0
BUNDLE=$(cd "$(dirname "$0")/.." && pwd)

usage () { sed -n '2,11s/^# \{0,1\}//p' "$0"; }
while [ $# -gt 0 ]; do
  case "$1" in
    --root) ROOT=$(realpath -m "$2"); shift ;;
    --bundle) BUNDLE=$(realpath "$2"); shift ;;
    --dry-run) DRY=1 ;;
    --uninstall) MODE=uninstall ;;
    --purge) PURGE=1 ;;
    -h|--help) usage; exit 0 ;;
    *) echo "install.sh: unknown option $1" >&2; usage >&2; exit 2 ;;
  esac
  shift
done
[ "$PURGE" = 1 ] && [ "$MODE" != uninstall ] && { echo "install.sh: --purge goes with --uninstall" >&2; exit 2; }

OPT=/opt/$NAME
ETC=/etc/autocore
VAR=/var/lib/autocore
UNITS=/etc/systemd/system
BIN=/usr/local/bin/$NAME
UNIT_FILES=(autocore-gateway.service autocore-gateway-health.service autocore-gateway-health.timer autocore-gateway-restart.service)

# Every change goes through run: printed always, executed unless --dry-run.
run () {
  echo "+ $*"
  [ "$DRY" = 1 ] || "$@"
}
write_file () { # write_file PATH MODE CONTENT
  echo "+ write $1 (mode $2)"
  [ "$DRY" = 1 ] || { printf '%s' "$3" > "$1" && chmod "$2" "$1"; }
}
systemctl_ () {
  if [ -n "$ROOT" ]; then
    local args=()
    for a in "$@"; do [ "$a" = --now ] || args+=("$a"); done
    case "$1" in enable|disable) run systemctl --root="$ROOT" "${args[@]}" ;; *) echo "- skipped in --root mode: systemctl $*" ;; esac
  else
    run systemctl "$@"
  fi
}
user_exists () {
  if [ -n "$ROOT" ]; then grep -q "^$USER_NAME:" "$ROOT/etc/passwd" 2>/dev/null; else getent passwd "$USER_NAME" >/dev/null; fi
}
# chown by number under --root: the names live in ROOT/etc/passwd, not in this system's.
owner () {
  if [ -n "$ROOT" ] && user_exists; then
    awk -F: -v u="$USER_NAME" '$1 == u { print $3 ":" $4 }' "$ROOT/etc/passwd"
  else
    echo "$USER_NAME:$USER_NAME"
  fi
}
prefix_args () { [ -n "$ROOT" ] && echo "--prefix $ROOT"; true; }

if [ "$(id -u)" != 0 ] && [ "$DRY" = 0 ] && [ -z "$ROOT" ]; then
  echo "install.sh: run as root (sudo), or try --dry-run" >&2
  exit 1
fi

install_app () {
  for f in dist/src/main.js bin/$NAME node_modules systemd/autocore-gateway.service config/default.json; do
    [ -e "$BUNDLE/$f" ] || { echo "install.sh: $BUNDLE is not an unpacked release bundle (no $f); build one with npm run release" >&2; exit 1; }
  done
  if ! command -v node >/dev/null; then
    echo "install.sh: warning: node is not on PATH; install Node.js $(sed -n 's/.*"node": *"\([^"]*\)".*/\1/p' "$BUNDLE/RELEASE.json" 2>/dev/null) before starting" >&2
  fi

  if user_exists; then
    echo "= user $USER_NAME exists"
  else
    # shellcheck disable=SC2046
    run useradd $(prefix_args) --system --user-group --home-dir "$VAR" --no-create-home --shell /usr/sbin/nologin "$USER_NAME"
  fi

  # The code: copied beside the old one, then swapped in, so an upgrade never leaves half a tree.
  if [ "$(realpath -m "$ROOT$OPT")" = "$BUNDLE" ]; then
    echo "= $OPT is the bundle itself"
  else
    run mkdir -p "$ROOT/opt"
    run rm -rf "$ROOT$OPT.new" "$ROOT$OPT.old"
    run mkdir -p "$ROOT$OPT.new"
    for f in bin config dist node_modules scripts systemd package.json package-lock.json README.md RELEASE.json; do
      [ -e "$BUNDLE/$f" ] && run cp -a "$BUNDLE/$f" "$ROOT$OPT.new/"
    done
    run chown -R 0:0 "$ROOT$OPT.new"
    [ -e "$ROOT$OPT" ] && run mv "$ROOT$OPT" "$ROOT$OPT.old"
    run mv "$ROOT$OPT.new" "$ROOT$OPT"
    run rm -rf "$ROOT$OPT.old"
  fi

  # The CLI on PATH, with the service's config and environment, so `autocore-gateway health` needs no flags.
  run mkdir -p "$ROOT$(dirname "$BIN")"
  write_file "$ROOT$BIN" 0755 "#!/bin/sh
# Installed by AutoCore Gateway's installer: the CLI with the service's configuration.
set -a
[ -r $ETC/autocore-gateway.env ] && . $ETC/autocore-gateway.env
set +a
export AUTOCORE_DATA_DIR=\"\${AUTOCORE_DATA_DIR:-$VAR}\"
export AUTOCORE_CONFIG_FILE=\"\${AUTOCORE_CONFIG_FILE:-$ETC/config.json}\"
exec $OPT/bin/$NAME \"\$@\"
"

  run mkdir -p "$ROOT$ETC"
  run chown "0:$(owner | cut -d: -f2)" "$ROOT$ETC"
  run chmod 0750 "$ROOT$ETC"
  if [ -e "$ROOT$ETC/config.json" ]; then
    echo "= $ETC/config.json exists, kept"
  else
    # The production profile: MQTT (8883) and HTTPS/WSS (8443) over TLS with the gateway CA made on first start;
    # plain MQTT and HTTP only on the loopback, for the CLI and the health units on this host.
    write_file "$ROOT$ETC/config.json" 0640 "{
  \"dataDir\": \"$VAR\",
  \"mqtt\": { \"host\": \"127.0.0.1\" },
  \"http\": { \"host\": \"127.0.0.1\" },
  \"tls\": { \"mqtt\": { \"enabled\": true }, \"https\": { \"enabled\": true } }
}
"
    run chown "0:$(owner | cut -d: -f2)" "$ROOT$ETC/config.json"
  fi
  if [ -e "$ROOT$ETC/autocore-gateway.env" ]; then
    echo "= $ETC/autocore-gateway.env exists, kept"
  else
    run install -m 0640 "$BUNDLE/systemd/autocore-gateway.env.example" "$ROOT$ETC/autocore-gateway.env"
  fi

  run mkdir -p "$ROOT$VAR"
  run chown "$(owner)" "$ROOT$VAR"
  run chmod 0750 "$ROOT$VAR"

  run mkdir -p "$ROOT$UNITS"
  for u in "${UNIT_FILES[@]}"; do run install -m 0644 "$BUNDLE/systemd/$u" "$ROOT$UNITS/$u"; done
  systemctl_ daemon-reload
  systemctl_ enable autocore-gateway.service autocore-gateway-health.timer
  # restart, not start: an upgrade must load the new code; it starts a stopped service too.
  systemctl_ restart autocore-gateway.service
  systemctl_ start autocore-gateway-health.timer

  cat <<EOF

AutoCore Gateway is installed${ROOT:+ under $ROOT}.
  The first start created the user admin; its initial password:
                                   sudo cat $VAR/initial-admin-password
  Log in to the panel:             https://<this host>:8443/ as admin with that password
  The CA to trust (browsers, devices, mqtt clients):
                                   sudo -u $USER_NAME $NAME tls export-ca > autocore-ca.crt
  Check it answers:                sudo -u $USER_NAME $NAME health
  Follow its log:                  journalctl -u $NAME -f -o cat
  Settings:                        $ETC/config.json (then: sudo systemctl restart $NAME)
EOF
}

uninstall_app () {
  systemctl_ disable --now autocore-gateway-health.timer autocore-gateway.service
  for u in "${UNIT_FILES[@]}"; do run rm -f "$ROOT$UNITS/$u"; done
  systemctl_ daemon-reload
  run rm -rf "$ROOT$OPT" "$ROOT$OPT.new" "$ROOT$OPT.old"
  run rm -f "$ROOT$BIN"
  if [ "$PURGE" = 1 ]; then
    run rm -rf "$ROOT$ETC" "$ROOT$VAR"
    # shellcheck disable=SC2046
    if user_exists; then run userdel $(prefix_args) "$USER_NAME"; fi
    echo "AutoCore Gateway, its configuration and its data are removed."
  else
    echo "AutoCore Gateway is removed; kept: $ETC (config), $VAR (database, backups), user $USER_NAME. --purge removes them."
  fi
}

if [ "$MODE" = install ]; then install_app; else uninstall_app; fi
