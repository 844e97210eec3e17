import { createLogger } from '../log.js'
import { openDatabase } from '../persistence/database.js'
import { configFor, type CliIo } from './io.js'

/** `autocore-gateway migrate`: applies pending migrations and exits (start does the same on its own). */
export async function migrate (io: CliIo, opts: { config?: string }): Promise<number> {
  const config = configFor(io, opts.config)
  const db = await openDatabase(config, createLogger(config).child({ module: 'migrate' }))
  try {
    const pending = await db.dataSource.showMigrations()
    io.out(pending ? 'migrations pending' : `schema up to date (${db.dataSource.migrations.length} migrations)`)
  } finally {
    await db.close()
  }
  return 0
}
