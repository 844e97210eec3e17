#!/usr/bin/env node
import 'reflect-metadata'
import { run } from './runtime/run.js'

// With cli/, the only place that ends the process: a running gateway stops only through runCli's result.
process.exit(await run())
