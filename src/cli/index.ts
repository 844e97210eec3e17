import { Command, CommanderError } from 'commander'
import { version } from '../version.js'
import { embeddedManifest, releaseText } from '../runtime/embedded.js'
import { CliExit, EXIT, type CliIo } from './io.js'
import { configCheck } from './config-check.js'
import { migrate } from './migrate.js'
import { health } from './health.js'
import { start, type Signals } from './start.js'
import { backup } from './backup.js'
import { restore } from './restore.js'
import { canImport } from './can.js'
import { registerDeviceCommands } from './device.js'
import { registerUserCommands } from './user.js'
import { registerTlsCommands } from './tls.js'
import { registerJournalCommand } from './journal.js'
import { simulate } from './simulate.js'
import { registerInstallCommands } from './install.js'

export type { CliIo } from './io.js'

/** The `autocore-gateway` command table. Resolves with the process exit code; never exits by itself. */
export async function runCli (argv: string[], io: CliIo, signals: Signals): Promise<number> {
  let code: number = EXIT.ok
  const release = embeddedManifest()?.release
  const program = new Command('autocore-gateway')
    .description('AutoCore Gateway: MQTT broker, device gateway, store and HTTP API in one process')
    .version(release === undefined ? version : releaseText(release))
    .exitOverride()
    .configureOutput({ writeOut: s => io.out(s.trimEnd()), writeErr: s => io.err(s.trimEnd()) })

  const configOption = ['-c, --config <file>', 'a JSON config file merged over config/default.json'] as const

  program.command('start')
    .description('run the gateway until SIGTERM/SIGINT')
    .option(...configOption)
    .action(async opts => { code = await start(io, opts, signals) })

  program.command('migrate')
    .description('apply pending database migrations')
    .option(...configOption)
    .action(async opts => { code = await migrate(io, opts) })

  program.command('config')
    .description('configuration tools')
    .command('check')
    .description('validate the configuration and print it with secrets redacted')
    .option(...configOption)
    .action(opts => { code = configCheck(io, opts) })

  program.command('health')
    .description('check HTTP, an MQTT round-trip and the database of a running gateway; exit 0 when all answer')
    .option(...configOption)
    .option('--url <url>', 'HTTP base URL (default: from the config)')
    .option('--mqtt-url <url>', 'MQTT URL (default: from the config); https:// and mqtts:// verify against the gateway CA')
    .option('--tls', 'check the TLS listeners (https://localhost:tls.https.port, mqtts://localhost:tls.mqtt.port)')
    .option('--timeout <ms>', 'per-check timeout in milliseconds', '5000')
    .option('--json', 'print the details as JSON')
    .option('--warn <list>', 'monitoring mode (Nagios exit codes 0/1/2): warn past these, e.g. ' +
      'disk-free=500MB,backup-age=26h')
    .option('--wait <ms>', 'retry until everything answers or this much time has passed (for start-up scripts)', '0')
    .option('--crit <list>', 'monitoring mode: critical past these, e.g. disk-free=100MB,backup-age=3d,emergency=on')
    .action(async opts => { code = await health(io, opts) })

  program.command('backup')
    .description('write an online backup of the SQLite database (safe while the gateway runs)')
    .option(...configOption)
    .option('-o, --out <file>', 'write the backup here instead of backup.dir')
    .action(async opts => { code = await backup(io, opts) })

  program.command('restore')
    .description('replace the SQLite database with a backup (the gateway must be stopped)')
    .argument('<file>', 'the backup file')
    .option(...configOption)
    .action(async (file: string, opts) => { code = await restore(io, file, opts) })
  program.command('can')
    .description('CAN bus tools')
    .command('import <file>')
    .description("import a DBC file's messages and signals into can_signals")
    .option(...configOption)
    .option('--device <uuid>', 'bind the signals to this CAN bridge (default: frames from any bridge)')
    .option('--dry-run', 'parse and count only')
    .action(async (file: string, opts) => { code = await canImport(io, file, opts) })
  program.command('simulate')
    .description('a simulated vehicle against a running gateway (sensor boards, a relay board, a display, an ' +
      'emergency button) until Ctrl-C; provisions its devices on first use')
    .option(...configOption)
    .option('--devices <n>', 'how many boards: a sensor board, a relay board, a display, an emergency button, then ' +
      'more sensor and relay boards', '4')
    .option('--rate <hz>', 'telemetry messages per second from each sensor board', '1')
    .option('--mqtt-url <url>', 'MQTT URL (default: from the config)')
    .action(async opts => { code = await simulate(io, opts, signals) })
  const setup = { program, io, configOption, setCode: (c: number) => { code = c } }
  for (const register of [registerDeviceCommands, registerUserCommands, registerTlsCommands, registerJournalCommand]) {
    register(setup)
  }
  registerInstallCommands(program, io, c => { code = c })

  // No command (or only options) means start; an unknown word stays an unknown command.
  const args = argv.slice(2)
  const withCommand =
    args.length === 0 || (args[0].startsWith('-') && !['-h', '--help', '-V', '--version'].includes(args[0]))
      ? [...argv.slice(0, 2), 'start', ...args]
      : argv
  try {
    await program.parseAsync(withCommand)
  } catch (err) {
    if (err instanceof CliExit) return err.code
    if (err instanceof CommanderError) return err.exitCode === 0 ? EXIT.ok : EXIT.config
    throw err
  }
  return code
}
