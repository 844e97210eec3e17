/**
 * The baseline broker for `npm run bench`: Aedes with its defaults and no hooks, on port 0 of 127.0.0.1.
 * Runs as its own process so its CPU and memory can be read from /proc like the app's.
 * Prints one JSON line once listening; SIGTERM closes it (exit 0).
 *
 *   node dist/scripts/bench/bare-aedes.js               in-memory persistence (Aedes' default)
 *   node dist/scripts/bench/bare-aedes.js --level DIR   the app's persistence (aedes-persistence-level on
 *                                                       classic-level in DIR), to tell its cost from the rest
 */
import net from 'node:net'
import { Aedes, type AedesOptions } from 'aedes'

interface Persistence { options: Partial<AedesOptions>, close: () => Promise<void> }

async function persistenceFromArgs (args: string[]): Promise<Persistence> {
  const at = args.indexOf('--level')
  if (at === -1) return { options: {}, close: async () => {} }
  const dir = args[at + 1]
  if (dir === undefined) throw new Error('--level needs a directory')
  // Imported only here, so that the in-memory baseline loads nothing it does not use.
  const { ClassicLevel } = await import('classic-level')
  const { default: aedesPersistenceLevel } = await import('aedes-persistence-level')
  const persistence = aedesPersistenceLevel(new ClassicLevel(dir))
  return {
    options: { persistence: persistence as unknown as AedesOptions['persistence'] },
    close: () => persistence.destroy()
  }
}

const persistence = await persistenceFromArgs(process.argv.slice(2))
const broker = await Aedes.createBroker(persistence.options)
// noDelay as in the app's listener: without it the first delivery waits on Nagle/delayed ACK (~40 ms).
const server = net.createServer({ noDelay: true }, broker.handle)
server.listen(0, '127.0.0.1', () => {
  const { port } = server.address() as net.AddressInfo
  process.stdout.write(JSON.stringify({ msg: 'bare aedes started', mqttPort: port, pid: process.pid }) + '\n')
})

process.once('SIGTERM', () => {
  server.close()
  broker.close(() => {
    persistence.close().then(() => process.exit(0), () => process.exit(1))
  })
})
