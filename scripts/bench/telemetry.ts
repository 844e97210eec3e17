// Telemetry bench scenario (issue 4, acceptance 3 and 5): `run()` prints its own lines. Standalone:
// `npm run build && node dist/scripts/bench/telemetry.js`.
import { fileURLToPath } from 'node:url'
import { growth, insertPaths } from './telemetry/storage.js'
import { load } from './telemetry/load.js'
import { chunkCodec, chunkStore } from './telemetry/chunks.js'
import { conversion } from './telemetry/convert.js'
import { wholeDatabase } from './telemetry/size.js'
import type { Scenario } from './scenario.js'

export async function run (): Promise<void> {
  for (const line of await chunkCodec()) console.log(line)
  for (const line of await chunkStore()) console.log(line)
  for (const mix of ['vehicle', 'classes'] as const) for (const line of await wholeDatabase(mix)) console.log(line)
  for (const line of await conversion()) console.log(line)
  for (const line of await insertPaths()) console.log(line)
  for (const line of await growth()) console.log(line)
  for (const line of await load()) console.log(line)
}

export const telemetryScenario: Scenario = {
  name: 'telemetry',
  description:
    'chunk codec bytes/reading, insert paths, DB growth, 50 devices QoS 0 / QoS 1 durable ingest vs mosquitto ' +
      'forwarding',
  targets: ['app'],
  run: async () => {
    console.log('\n== telemetry: insert paths, DB growth, durable ingest')
    await run()
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await run()
