import { existsSync } from 'node:fs'
import { join, resolve } from 'node:path'
import type { Command } from 'commander'
import { packageRoot } from '../paths.js'
import { embeddedManifest } from '../runtime/embedded.js'
import { CliExit, EXIT, type CliIo } from './io.js'
import { BIN, ETC, NAME, OPT, Steps, UNIT_FILES, UNITS_DIR, USER, VAR } from './install-steps.js'

export interface Opts { dryRun?: boolean, root?: string, purge?: boolean }

/** What is installed: the executable and the directory holding its config/, systemd/, README.md, RELEASE.json. */
export interface Source { executable: string, files: string }

/** The CLI on PATH with the service's config and environment (scripts/install.sh writes the same file). */
const WRAPPER = `#!/bin/sh
# Installed by AutoCore Gateway's installer: the CLI with the service's configuration.
set -a
[ -r ${ETC}/autocore-gateway.env ] && . ${ETC}/autocore-gateway.env
set +a
export AUTOCORE_DATA_DIR="\${AUTOCORE_DATA_DIR:-${VAR}}"
export AUTOCORE_CONFIG_FILE="\${AUTOCORE_CONFIG_FILE:-${ETC}/config.json}"
exec ${OPT}/bin/${NAME} "$@"
`

/**
 * The production profile: MQTT (8883) and HTTPS/WSS (8443) over TLS with the gateway CA made on first start;
 * plain MQTT and HTTP only on the loopback, for the CLI and the health units on this host.
 */
const CONFIG = `{
  "dataDir": "${VAR}",
  "mqtt": { "host": "127.0.0.1" },
  "http": { "host": "127.0.0.1" },
  "tls": { "mqtt": { "enabled": true }, "https": { "enabled": true } }
}
`

function steps (io: CliIo, opts: Opts): Steps {
  const root = opts.root === undefined ? '' : resolve(opts.root)
  const dry = opts.dryRun === true
  if (process.getuid?.() !== 0 && !dry && root === '') {
    io.err(`${NAME}: run as root (sudo), or try --dry-run`)
    throw new CliExit(EXIT.failed)
  }
  return new Steps(io, root, dry)
}

/** The code: the executable and its reference files, copied beside the old ones, then swapped in. */
function installCode (s: Steps, from: Source): void {
  const opt = s.at(OPT)
  s.mkdir(s.at('/opt'))
  s.remove(`${opt}.new`, `${opt}.old`)
  s.mkdir(`${opt}.new/bin`)
  s.install(0o755, from.executable, `${opt}.new/bin/${NAME}`)
  for (const f of ['config', 'systemd', 'README.md', 'RELEASE.json']) {
    if (existsSync(join(from.files, f))) s.copyTree(join(from.files, f), `${opt}.new/${f}`)
  }
  s.chown('0:0', `${opt}.new`, true)
  if (existsSync(opt)) s.move(opt, `${opt}.old`)
  s.move(`${opt}.new`, opt)
  s.remove(`${opt}.old`)
}

function installEtc (s: Steps, from: Source): void {
  s.mkdir(s.at(ETC))
  s.chown(`0:${s.group()}`, s.at(ETC))
  s.chmod(0o750, s.at(ETC))
  if (existsSync(s.at(`${ETC}/config.json`))) {
    s.io.out(`= ${ETC}/config.json exists, kept`)
  } else {
    s.write(s.at(`${ETC}/config.json`), 0o640, CONFIG)
    s.chown(`0:${s.group()}`, s.at(`${ETC}/config.json`))
  }
  if (existsSync(s.at(`${ETC}/autocore-gateway.env`))) {
    s.io.out(`= ${ETC}/autocore-gateway.env exists, kept`)
  } else {
    s.install(0o640, join(from.files, 'systemd', 'autocore-gateway.env.example'), s.at(`${ETC}/autocore-gateway.env`))
  }
}

/** The running single executable, or undefined in a checkout or the tarball (scripts/install.sh is theirs). */
function embeddedSource (): Source | undefined {
  return embeddedManifest() === undefined ? undefined : { executable: process.execPath, files: packageRoot }
}

/** `install`: scripts/install.sh's steps, from `from` (the running executable; tests give a stand-in). */
export function install (io: CliIo, opts: Opts, from = embeddedSource()): number {
  if (from === undefined) {
    io.err(`${NAME} install: a command of the single executable (npm run release builds it); ` +
      'from a checkout or the release tarball, use scripts/install.sh')
    return EXIT.failed
  }
  const s = steps(io, opts)
  if (s.passwdLine() !== undefined) io.out(`= user ${USER} exists`)
  else {
    s.command('useradd', ...s.prefix(), '--system', '--user-group', '--home-dir', VAR, '--no-create-home',
      '--shell', '/usr/sbin/nologin', USER)
  }
  installCode(s, from)
  s.mkdir(s.at('/usr/local/bin'))
  s.write(s.at(BIN), 0o755, WRAPPER)
  installEtc(s, from)
  s.mkdir(s.at(VAR))
  s.chown(s.owner(), s.at(VAR))
  s.chmod(0o750, s.at(VAR))
  s.mkdir(s.at(UNITS_DIR))
  for (const u of UNIT_FILES) s.install(0o644, join(from.files, 'systemd', u), s.at(`${UNITS_DIR}/${u}`))
  s.systemctl('daemon-reload')
  s.systemctl('enable', 'autocore-gateway.service', 'autocore-gateway-health.timer')
  // restart, not start: an upgrade must load the new code; it starts a stopped service too.
  s.systemctl('restart', 'autocore-gateway.service')
  s.systemctl('start', 'autocore-gateway-health.timer')
  io.out(`
AutoCore Gateway is installed${s.root === '' ? '' : ` under ${s.root}`}.
  The first start created the user admin; its initial password:
                                   sudo cat ${VAR}/initial-admin-password
  Log in to the panel:             https://<this host>:8443/ as admin with that password
  The CA to trust (browsers, devices, mqtt clients):
                                   sudo -u ${USER} ${NAME} tls export-ca > autocore-ca.crt
  Check it answers:                sudo -u ${USER} ${NAME} health
  Follow its log:                  journalctl -u ${NAME} -f -o cat
  Settings:                        ${ETC}/config.json (then: sudo systemctl restart ${NAME})`)
  return EXIT.ok
}

export function uninstall (io: CliIo, opts: Opts): number {
  const s = steps(io, opts)
  s.systemctl('disable', '--now', 'autocore-gateway-health.timer', 'autocore-gateway.service')
  for (const u of UNIT_FILES) s.remove(s.at(`${UNITS_DIR}/${u}`))
  s.systemctl('daemon-reload')
  s.remove(s.at(OPT), s.at(`${OPT}.new`), s.at(`${OPT}.old`))
  s.remove(s.at(BIN))
  if (opts.purge !== true) {
    io.out(`AutoCore Gateway is removed; kept: ${ETC} (config), ${VAR} (database, backups), user ${USER}. ` +
      '--purge removes them.')
    return EXIT.ok
  }
  s.remove(s.at(ETC), s.at(VAR))
  if (s.passwdLine() !== undefined) s.command('userdel', ...s.prefix(), USER)
  io.out('AutoCore Gateway, its configuration and its data are removed.')
  return EXIT.ok
}

/** `autocore-gateway install|uninstall`: what scripts/install.sh does, from the single executable itself. */
export function registerInstallCommands (program: Command, io: CliIo, setCode: (code: number) => void): void {
  const wrap = (fn: (io: CliIo, opts: Opts) => number) => (opts: Opts): void => {
    try {
      setCode(fn(io, opts))
    } catch (err) {
      if (err instanceof CliExit) throw err
      io.err(`${NAME}: ${(err as Error).message}`)
      setCode(EXIT.failed)
    }
  }
  program.command('install')
    .description('install this executable as a systemd service: user, /opt, /etc/autocore, data dir, units, ' +
      'enable and (re)start; again to upgrade (config and data are kept)')
    .option('--dry-run', 'print every action, change nothing')
    .option('--root <dir>', 'install into DIR as if it were / (images, tests): nothing is started')
    .action(wrap((io, opts) => install(io, opts)))
  program.command('uninstall')
    .description('remove the service and /opt/autocore-gateway; keep config, data and user unless --purge')
    .option('--purge', 'also remove /etc/autocore, /var/lib/autocore and the user')
    .option('--dry-run', 'print every action, change nothing')
    .option('--root <dir>', 'uninstall from DIR as if it were /')
    .action(wrap(uninstall))
}
