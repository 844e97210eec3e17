import { spawnSync } from 'node:child_process'
import { createHash } from 'node:crypto'
import {
  cpSync,
  existsSync,
  lstatSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  statSync,
  writeFileSync
} from 'node:fs'
import { join } from 'node:path'
import t from 'tap'
import { packageRoot } from '../../src/paths.js'
import { x64Binary } from '../helpers/binary.js'
import { install as installExe, uninstall as uninstallExe } from '../../src/cli/install.js'

// The parity test builds the single executable when no other test file has yet (20-40 s on a busy 2-core machine,
// test/helpers/binary.ts): more than tap's 120 s per file can be under the full suite's load.
t.setTimeout(300_000)

const script = join(packageRoot, 'scripts', 'install.sh')
const UNITS = [
  'autocore-gateway.service',
  'autocore-gateway-health.service',
  'autocore-gateway-health.timer',
  'autocore-gateway-restart.service'
]

/** A minimal unpacked bundle: the real launcher, units and defaults; a stub where dist/ and node_modules/ go. */
function bundle (base: string, name = 'bundle'): string {
  const dir = join(base, name)
  for (const d of ['bin', 'systemd', 'config']) cpSync(join(packageRoot, d), join(dir, d), { recursive: true })
  mkdirSync(join(dir, 'dist', 'src'), { recursive: true })
  writeFileSync(join(dir, 'dist', 'src', 'main.js'), '// stub\n')
  mkdirSync(join(dir, 'node_modules'))
  writeFileSync(join(dir, 'RELEASE.json'), JSON.stringify({ node: '20.19.0' }))
  return dir
}

/** A throwaway root with just the account files useradd --prefix needs. */
function root (base: string, name = 'root'): string {
  const dir = join(base, name)
  mkdirSync(join(dir, 'etc'), { recursive: true })
  writeFileSync(join(dir, 'etc', 'passwd'), 'root:x:0:0:root:/root:/bin/bash\n')
  writeFileSync(join(dir, 'etc', 'group'), 'root:x:0:\n')
  writeFileSync(join(dir, 'etc', 'shadow'), 'root:*:19000:0:99999:7:::\n', { mode: 0o640 })
  writeFileSync(join(dir, 'etc', 'gshadow'), 'root:*::\n', { mode: 0o640 })
  return dir
}

function install (...args: string[]): { status: number | null, out: string } {
  const r = spawnSync('bash', [script, ...args], { encoding: 'utf8' })
  return { status: r.status, out: r.stdout + r.stderr }
}

function autocoreIds (r: string): [number, number] {
  const line = readFileSync(join(r, 'etc', 'passwd'), 'utf8').split('\n').find(l => l.startsWith('autocore:')) as string
  const [, , uid, gid] = line.split(':')
  return [Number(uid), Number(gid)]
}

/**
 * systemd-analyze verify on the units installed in root r. verify checks that each Exec path exists on this machine;
 * the units name /opt/autocore-gateway, which exists only inside the root, so the copies verified (in dir) point
 * there. Everything else in them is verified as shipped.
 */
function verifyUnits (r: string, dir: string): { status: number | null, stderr: string } {
  mkdirSync(dir)
  for (const u of UNITS) {
    const text = readFileSync(join(r, 'etc/systemd/system', u), 'utf8')
    writeFileSync(join(dir, u), text.replaceAll('/opt/autocore-gateway', join(r, 'opt/autocore-gateway')))
  }
  return spawnSync('systemd-analyze', ['verify', ...UNITS.map(u => join(dir, u))], { encoding: 'utf8', cwd: dir })
}

t.test('install into a throwaway root: user, /opt, config only if absent, data dir, units enabled; ' +
  'idempotent', async t => {
  const base = t.testdir()
  const b = bundle(base)
  const r = root(base)
  const first = install('--root', r, '--bundle', b)
  t.equal(first.status, 0, first.out)
  const [uid, gid] = autocoreIds(r)
  t.ok(uid > 0 && uid < 1000, 'a system user')
  t.ok(existsSync(join(r, 'opt/autocore-gateway/bin/autocore-gateway')))
  t.ok(existsSync(join(r, 'opt/autocore-gateway/dist/src/main.js')))
  // The production profile (#17): TLS listeners on, plain MQTT and HTTP on the loopback only.
  t.same(JSON.parse(readFileSync(join(r, 'etc/autocore/config.json'), 'utf8')), {
    dataDir: '/var/lib/autocore',
    mqtt: { host: '127.0.0.1' },
    http: { host: '127.0.0.1' },
    tls: { mqtt: { enabled: true }, https: { enabled: true } }
  })
  t.equal(statSync(join(r, 'etc/autocore/config.json')).mode & 0o777, 0o640)
  const data = statSync(join(r, 'var/lib/autocore'))
  t.same([data.uid, data.gid, data.mode & 0o777], [uid, gid, 0o750], 'the data dir belongs to autocore')
  for (const u of UNITS) t.ok(existsSync(join(r, 'etc/systemd/system', u)), u)
  t.equal(
    readlinkSync(join(r, 'etc/systemd/system/multi-user.target.wants/autocore-gateway.service')),
    '/etc/systemd/system/autocore-gateway.service'
  )
  t.ok(lstatSync(join(r, 'etc/systemd/system/timers.target.wants/autocore-gateway-health.timer')).isSymbolicLink())
  t.match(
    readFileSync(join(r, 'usr/local/bin/autocore-gateway'), 'utf8'),
    /AUTOCORE_CONFIG_FILE=.*\/etc\/autocore\/config\.json.*\nexec \/opt\/autocore-gateway\/bin\/autocore-gateway "\$@"/
  )
  t.match(
    first.out,
    /sudo cat \/var\/lib\/autocore\/initial-admin-password/,
    'where the initial admin password is (the first start created admin)'
  )
  t.notMatch(first.out, /user add admin/, 'no step that fails with GW_ERR_USER_EXISTS')
  t.match(first.out, /autocore-gateway health/)

  writeFileSync(join(r, 'etc/autocore/config.json'), '{"mqtt":{"port":1884}}\n')
  writeFileSync(join(b, 'dist/src/main.js'), '// new version\n')
  const again = install('--root', r, '--bundle', b)
  t.equal(again.status, 0, again.out)
  t.match(again.out, /= user autocore exists/)
  t.match(again.out, /config\.json exists, kept/)
  t.equal(
    readFileSync(join(r, 'etc/autocore/config.json'), 'utf8'),
    '{"mqtt":{"port":1884}}\n',
    'the operator config is never overwritten'
  )
  t.equal(
    readFileSync(join(r, 'opt/autocore-gateway/dist/src/main.js'), 'utf8'),
    '// new version\n',
    'the code is upgraded'
  )
  t.equal(readFileSync(join(r, 'etc/passwd'), 'utf8').split('\n').filter(l => l.startsWith('autocore:')).length, 1)
  t.same(readdirSync(join(r, 'opt')), ['autocore-gateway'], 'no .new/.old left behind')
})

t.test('systemd-analyze verify passes on the installed units (ExecStart paths resolved inside the root)', async t => {
  const base = t.testdir()
  const r = root(base)
  t.equal(install('--root', r, '--bundle', bundle(base)).status, 0)
  const dir = join(base, 'verify')
  const ok = verifyUnits(r, dir)
  t.equal(ok.status, 0, ok.stderr)
  t.equal(ok.stderr, '', 'no warnings')

  writeFileSync(
    join(dir, 'broken.service'),
    readFileSync(join(packageRoot, 'systemd/autocore-gateway.service'), 'utf8').replaceAll(
      '/opt/autocore-gateway',
      '/nonexistent'
    )
  )
  const bad = spawnSync('systemd-analyze', ['verify', join(dir, 'broken.service')], { encoding: 'utf8' })
  t.not(bad.status, 0, 'verify does catch a missing ExecStart')
})

t.test('--dry-run prints every action and changes nothing', async t => {
  const base = t.testdir()
  const r = root(base)
  const before = readFileSync(join(r, 'etc/passwd'), 'utf8')
  const dry = install('--root', r, '--bundle', bundle(base), '--dry-run')
  t.equal(dry.status, 0, dry.out)
  for (const action of [
    /\+ useradd --prefix \S+ --system --user-group --home-dir \/var\/lib\/autocore/,
    /\+ cp -a \S+\/dist \S+\/opt\/autocore-gateway\.new\//,
    /\+ write \S+\/etc\/autocore\/config\.json \(mode 0640\)/,
    /\+ mkdir -p \S+\/var\/lib\/autocore/,
    /\+ chown autocore:autocore \S+\/var\/lib\/autocore/,
    /\+ install -m 0644 \S+autocore-gateway\.service \S+\/etc\/systemd\/system\/autocore-gateway\.service/,
    /\+ systemctl --root=\S+ enable autocore-gateway\.service autocore-gateway-health\.timer/,
    /- skipped in --root mode: systemctl restart autocore-gateway\.service/
  ]) {
    t.match(dry.out, action)
  }
  t.same(readdirSync(r), ['etc'])
  t.same(readdirSync(join(r, 'etc')).sort(), ['group', 'gshadow', 'passwd', 'shadow'])
  t.equal(readFileSync(join(r, 'etc/passwd'), 'utf8'), before)

  const live = install('--dry-run', '--bundle', bundle(base, 'bundle2'))
  t.equal(live.status, 0, live.out)
  t.match(
    live.out,
    new RegExp(/\+ systemctl daemon-reload\n\+ systemctl enable autocore-gateway\.service /.source +
      /autocore-gateway-health\.timer\n\+ systemctl restart autocore-gateway\.service/.source)
  )
  t.match(live.out, /\+ cp -a \S+ \/opt\/autocore-gateway\.new\//)
})

t.test('--uninstall keeps config, data and user; --purge removes them; bad input is refused', async t => {
  const base = t.testdir()
  const r = root(base)
  t.equal(install('--root', r, '--bundle', bundle(base)).status, 0)
  writeFileSync(join(r, 'var/lib/autocore/autocore.db'), 'data')
  const un = install('--root', r, '--uninstall')
  t.equal(un.status, 0, un.out)
  t.notOk(existsSync(join(r, 'opt/autocore-gateway')))
  t.notOk(existsSync(join(r, 'usr/local/bin/autocore-gateway')))
  for (const u of UNITS) t.notOk(existsSync(join(r, 'etc/systemd/system', u)))
  t.notOk(existsSync(join(r, 'etc/systemd/system/multi-user.target.wants/autocore-gateway.service')), 'disabled')
  t.ok(existsSync(join(r, 'var/lib/autocore/autocore.db')), 'data kept')
  t.ok(existsSync(join(r, 'etc/autocore/config.json')), 'config kept')
  t.match(readFileSync(join(r, 'etc/passwd'), 'utf8'), /^autocore:/m)

  const purge = install('--root', r, '--uninstall', '--purge')
  t.equal(purge.status, 0, purge.out)
  t.notOk(existsSync(join(r, 'var/lib/autocore')))
  t.notOk(existsSync(join(r, 'etc/autocore')))
  t.notMatch(readFileSync(join(r, 'etc/passwd'), 'utf8'), /^autocore:/m)

  t.equal(install('--purge').status, 2)
  t.equal(install('--bogus').status, 2)
  const notBundle = install('--root', root(base, 'root2'), '--bundle', join(base, 'empty'))
  t.equal(notBundle.status, 1)
  t.match(notBundle.out, /is not an unpacked release bundle \(no dist\/src\/main\.js\)/)
})

// #19: `autocore-gateway install` of the single executable does what install.sh does, from the executable itself.
const binaryEnv = (base: string): NodeJS.ProcessEnv => ({ PATH: process.env.PATH, HOME: join(base, 'home') })
function binary (base: string, ...args: string[]): { status: number | null, out: string } {
  const r = spawnSync(x64Binary(), args, { encoding: 'utf8', env: binaryEnv(base) })
  return { status: r.status, out: r.stdout + r.stderr }
}

/** Every path under dir (but under skip) with its type, mode, owner and content or link target. */
function tree (dir: string, skip: string): Map<string, string> {
  const out = new Map<string, string>()
  const walk = (p: string): void => {
    const rel = p.slice(dir.length) || '/'
    if (rel.startsWith(skip + '/')) return
    const st = lstatSync(p)
    const what = st.isSymbolicLink()
      ? `-> ${readlinkSync(p)}`
      : st.isDirectory() ? 'dir' : createHash('sha256').update(readFileSync(p)).digest('hex')
    out.set(rel, `${(st.mode & 0o7777).toString(8)} ${st.uid}:${st.gid} ${what}`)
    if (st.isDirectory() && !st.isSymbolicLink()) for (const n of readdirSync(p)) walk(join(p, n))
  }
  walk(dir)
  return out
}

t.test('the executable\'s install --root makes the same tree as install.sh --root; verify passes', async t => {
  const base = t.testdir()
  const bySh = root(base, 'by-sh')
  const byExe = root(base, 'by-exe')
  t.equal(install('--root', bySh, '--bundle', bundle(base)).status, 0)
  const done = binary(base, 'install', '--root', byExe)
  t.equal(done.status, 0, done.out)
  const [sh, exe] = [tree(bySh, '/opt/autocore-gateway'), tree(byExe, '/opt/autocore-gateway')]
  t.same([...exe.keys()].sort(), [...sh.keys()].sort(), 'the same paths outside /opt/autocore-gateway')
  for (const [path, what] of sh) t.equal(exe.get(path), what, path)
  // In /opt/autocore-gateway: the executable in place of the launcher, with the same config and units.
  t.equal(readFileSync(join(byExe, 'opt/autocore-gateway/bin/autocore-gateway')).length, statSync(x64Binary()).size)
  t.equal(statSync(join(byExe, 'opt/autocore-gateway/bin/autocore-gateway')).mode & 0o777, 0o755)
  for (const f of ['config/default.json', ...UNITS.map(u => `systemd/${u}`), 'systemd/autocore-gateway.env.example']) {
    t.equal(readFileSync(join(byExe, 'opt/autocore-gateway', f), 'utf8'),
      readFileSync(join(bySh, 'opt/autocore-gateway', f), 'utf8'), f)
  }
  t.match(JSON.parse(readFileSync(join(byExe, 'opt/autocore-gateway/RELEASE.json'), 'utf8')), { target: 'linux-x64' })

  const ok = verifyUnits(byExe, join(base, 'verify'))
  t.equal(ok.status, 0, ok.stderr)
  t.equal(ok.stderr, '', 'no warnings')

  writeFileSync(join(byExe, 'etc/autocore/config.json'), '{"mqtt":{"port":1884}}\n')
  const again = binary(base, 'install', '--root', byExe)
  t.equal(again.status, 0, again.out)
  t.match(again.out, /= user autocore exists\n/)
  t.match(again.out, /config\.json exists, kept/)
  t.equal(readFileSync(join(byExe, 'etc/autocore/config.json'), 'utf8'), '{"mqtt":{"port":1884}}\n')
  t.same(readdirSync(join(byExe, 'opt')), ['autocore-gateway'], 'no .new/.old left behind')
})

t.test('install/uninstall in-process: --dry-run changes nothing; uninstall keeps data, --purge removes it', async t => {
  const base = t.testdir()
  const r = root(base)
  const lines: string[] = []
  const io = { env: {}, out: (l: string) => lines.push(l), err: (l: string) => lines.push(l) }
  const text = (): string => lines.splice(0).join('\n')
  // A stand-in for the running executable: the launcher, with the checkout's config/ and systemd/.
  const from = { executable: join(packageRoot, 'bin', 'autocore-gateway'), files: packageRoot }
  const before = tree(r, '/none')
  t.equal(installExe(io, { root: r, dryRun: true }, from), 0)
  const dry = text()
  t.match(dry, /\+ useradd --prefix \S+ --system --user-group --home-dir \/var\/lib\/autocore/)
  t.match(dry, /\+ systemctl --root=\S+ enable autocore-gateway\.service autocore-gateway-health\.timer/)
  t.same(tree(r, '/none'), before, 'nothing changed')
  t.equal(installExe(io, { dryRun: true }, from), 0)
  t.match(text(), new RegExp(String.raw`\+ systemctl daemon-reload\n\+ systemctl enable autocore-gateway\.service ` +
    String.raw`autocore-gateway-health\.timer\n\+ systemctl restart autocore-gateway\.service`))

  t.equal(installExe(io, { root: r }, from), 0, text())
  t.equal(statSync(join(r, 'opt/autocore-gateway/bin/autocore-gateway')).mode & 0o777, 0o755)
  writeFileSync(join(r, 'var/lib/autocore/autocore.db'), 'data')
  t.equal(uninstallExe(io, { root: r }), 0)
  t.match(text(), /kept: \/etc\/autocore \(config\), \/var\/lib\/autocore/)
  t.notOk(existsSync(join(r, 'opt/autocore-gateway')))
  t.notOk(existsSync(join(r, 'usr/local/bin/autocore-gateway')))
  for (const u of UNITS) t.notOk(existsSync(join(r, 'etc/systemd/system', u)))
  t.notOk(existsSync(join(r, 'etc/systemd/system/multi-user.target.wants/autocore-gateway.service')), 'disabled')
  t.ok(existsSync(join(r, 'var/lib/autocore/autocore.db')), 'data kept')
  t.match(readFileSync(join(r, 'etc/passwd'), 'utf8'), /^autocore:/m)
  t.equal(uninstallExe(io, { root: r, purge: true }), 0)
  t.notOk(existsSync(join(r, 'var/lib/autocore')))
  t.notOk(existsSync(join(r, 'etc/autocore')))
  t.notMatch(readFileSync(join(r, 'etc/passwd'), 'utf8'), /^autocore:/m)

  t.equal(installExe(io, { root: root(base, 'root2') }, undefined), 1, 'outside the executable, install refuses')
  t.match(text(), /use scripts\/install\.sh/)
  // A step that fails stops the install with its reason: useradd, in a root without account files.
  const bare = join(base, 'bare')
  mkdirSync(bare)
  t.throws(() => installExe(io, { root: bare }, from), /useradd --prefix \S+bare .*: /)
  t.notOk(existsSync(join(bare, 'opt')), 'nothing after the failed step')
})
