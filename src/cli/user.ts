import { USER_ROLES, type UserRole } from '../auth/principal.js'
import { MIN_PASSWORD_LENGTH, changeUser, createUser } from '../services/accounts.js'
import { dbAction, printTable, withRepos, type DbOpts } from './admin-db.js'
import { CliExit, EXIT, type CommandSetup } from './io.js'

type Opts = DbOpts

/** `autocore-gateway user add|list|disable|enable`. */
export function registerUserCommands (setup: CommandSetup): void {
  const { program, io, configOption, setCode } = setup
  const user = program.command('user').description('manage users of the API and panels (opens the database directly)')

  user.command('add <name>')
    .description('create a user; the password is read from stdin (first line)')
    .requiredOption('--role <role>', USER_ROLES.join('|'))
    .option('--password-stdin', 'read the password from stdin (the default)')
    .option('--json', 'print the result as JSON')
    .option(...configOption)
    .action(async (name: string, opts: Opts & { role: string }) => {
      if (!USER_ROLES.includes(opts.role as UserRole)) {
        io.err(`--role must be one of ${USER_ROLES.join(', ')}`)
        throw new CliExit(EXIT.config)
      }
      const password = ((await io.readStdin?.()) ?? '').split('\n')[0].replace(/\r$/, '')
      if (password.length < MIN_PASSWORD_LENGTH) {
        io.err(`the password (first line of stdin) must have at least ${MIN_PASSWORD_LENGTH} characters`)
        throw new CliExit(EXIT.failed)
      }
      setCode(await withRepos(io, opts, async repos => {
        await createUser(repos.users, { username: name, role: opts.role as UserRole, password }, Date.now)
        io.out(
          opts.json === true ? JSON.stringify({ username: name, role: opts.role }) : `created ${opts.role} ${name}`
        )
      }))
    })

  dbAction(setup, user.command('list').description('list users'), 'print a JSON array', async (repos, _, opts) => {
    const rows = (await repos.users.list()).map(u => ({
      username: u.username,
      role: u.role,
      enabled: u.enabled,
      lastLoginAt: u.lastLoginAt === null ? null : new Date(u.lastLoginAt).toISOString()
    }))
    printTable(io, opts.json, rows, ['username', 'role', 'enabled', 'lastLoginAt'])
  })

  for (const [name, enabled] of [['disable', false], ['enable', true]] as const) {
    const command = user.command(`${name} <name>`)
      .description(enabled
        ? 'allow the user again'
        : 'refuse the user: login and MQTT (tokens already issued stop ' +
        'working at the next CONNECT); never the last enabled admin')
    dbAction(setup, command, 'print the result as JSON', async (repos, _, opts, username: string) => {
      await changeUser(repos.users, username, { enabled }, Date.now)
      io.out(opts.json === true ? JSON.stringify({ username, enabled }) : `${name}d ${username}`)
    })
  }
}
