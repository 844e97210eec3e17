#!/usr/bin/env node
import 'reflect-metadata'
import { runCli } from './cli/index.js'

// With cli/, the only place that ends the process: a running gateway stops only through runCli's result.
const code = await runCli(process.argv, {
  env: process.env,
  out: line => process.stdout.write(line + '\n'),
  err: line => process.stderr.write(line + '\n'),
  readStdin: async () => {
    const chunks: Buffer[] = []
    for await (const chunk of process.stdin) chunks.push(chunk as Buffer)
    return Buffer.concat(chunks).toString('utf8')
  }
}, process)
process.exit(code)
