import { spawn } from 'node:child_process'
import { writeFileSync } from 'node:fs'
import net from 'node:net'
import { join } from 'node:path'
import type { Test } from 'tap'

/**
 * Debian's Mosquitto (the `mosquitto` package, installed by .ci/run), the reference broker for the clause tests: a
 * test that disagrees with it is a test bug. Started on a free loopback port with a config of its own; killed at
 * teardown. As root (CI) it would switch to the `mosquitto` user: `user root` keeps it as the test's own user.
 */
export async function startMosquitto (t: Test): Promise<number> {
  const port = await freePort()
  const dir = t.testdir()
  const conf = join(dir, 'mosquitto.conf')
  writeFileSync(conf, [
    `listener ${port} 127.0.0.1`,
    'allow_anonymous true',
    'persistence false',
    ...(process.getuid?.() === 0 ? ['user root'] : []),
    ''
  ].join('\n'))
  const child = spawn('mosquitto', ['-c', conf], { stdio: ['ignore', 'ignore', 'pipe'] })
  const stderr: string[] = []
  child.stderr.on('data', (d: Buffer) => stderr.push(d.toString()))
  t.teardown(() => { if (child.exitCode === null) child.kill('SIGKILL') })
  const until = Date.now() + 10000
  for (;;) {
    if (child.exitCode !== null) throw new Error(`mosquitto exited ${child.exitCode}: ${stderr.join('')}`)
    if (await accepts(port)) return port
    if (Date.now() > until) throw new Error(`mosquitto did not listen on ${port}: ${stderr.join('')}`)
    await new Promise(resolve => setTimeout(resolve, 20))
  }
}

async function freePort (): Promise<number> {
  const server = net.createServer()
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as net.AddressInfo
  await new Promise(resolve => server.close(resolve))
  return port
}

async function accepts (port: number): Promise<boolean> {
  return await new Promise(resolve => {
    const s = net.connect({ host: '127.0.0.1', port })
    s.once('connect', () => { s.destroy(); resolve(true) })
    s.once('error', () => resolve(false))
  })
}
