import type { DataSource } from 'typeorm'
import { createDataSource } from './data-source.js'
import { ownConnection } from './sqlite/index.js'
import { GatewayError } from '../errors.js'
import type { Config } from '../config/types.js'
import type { Logger } from '../log.js'

export interface Database {
  readonly dataSource: DataSource
  /** Round-trips a trivial query; false when the store does not answer. */
  ping: () => Promise<boolean>
  close: () => Promise<void>
}

/** Opens the store and brings its schema up to date (pending migrations, each in its own transaction). */
export async function openDatabase (config: Pick<Config, 'dataDir' | 'database' | 'telemetry'>, log: Logger):
Promise<Database> {
  const dataSource = createDataSource(config)
  ownConnection(dataSource)
  try {
    await dataSource.initialize()
  } catch (err) {
    throw new GatewayError(
      'GW_ERR_DB_UNAVAILABLE',
      `database (${config.database.type}) cannot be opened: ${(err as Error).message}`
    )
  }
  const applied = await dataSource.runMigrations({ transaction: 'each' })
  if (applied.length > 0) log.info({ migrations: applied.map(m => m.name) }, 'migrations applied')
  return {
    dataSource,
    async ping () {
      try {
        await dataSource.query('SELECT 1')
        return true
      } catch {
        return false
      }
    },
    async close () {
      if (dataSource.isInitialized) await dataSource.destroy()
    }
  }
}
