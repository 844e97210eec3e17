import 'reflect-metadata'
import { run } from './run.js'

// The single executable's entry (scripts/build-binary.ts bundles it to one CommonJS script, which has no top-level
// await): src/main.ts without it. Like main.ts, the only place that ends the process.
run().then(code => process.exit(code), (err: unknown) => {
  process.stderr.write(String((err as Error).stack ?? err) + '\n')
  process.exit(1)
})
