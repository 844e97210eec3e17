import { mkdirSync } from 'node:fs'
import { join } from 'node:path'
import { DataSource, type DataSourceOptions } from 'typeorm'
import { entities } from '../../entities/index.js'
import { migrations } from './migrations/index.js'
import type { Config } from '../config/types.js'

/**
 * The page size of a new SQLite file. The chunk store's rows are BLOBs of 0.1-7 KB: in 4 KB pages a 3 KB row has a
 * page to itself (a sixth of its table was free space), in 1 KB pages a row over 1 KB fills whole overflow pages
 * and leaves ~4% free. The row store's small rows and busy indexes insert faster in 4 KB pages (the `chunk store`
 * bench lines). A file keeps the size it was created with.
 */
export function newFilePageSize (config: Pick<Config, 'telemetry'>): number {
  return config.telemetry.chunkStore ? 1024 : 4096
}

/** The DataSource for the configured engine. Schema changes only through migrations, never synchronize. */
export function createDataSource (config: Pick<Config, 'dataDir' | 'database' | 'telemetry'>): DataSource {
  const common = { entities, migrations, synchronize: false, migrationsRun: false, logging: false } as const
  let options: DataSourceOptions
  if (config.database.type === 'postgres') {
    options = { ...common, type: 'postgres', url: config.database.url }
  } else {
    const file = config.database.file
    const database = file === ':memory:' ? file : join(config.dataDir, file)
    if (file !== ':memory:') mkdirSync(config.dataDir, { recursive: true })
    options = {
      ...common,
      type: 'better-sqlite3',
      database,
      enableWAL: true,
      // One connection: these pragmas hold for every statement the app runs.
      prepareDatabase: (db: { pragma: (s: string) => unknown }) => {
        // These two take effect only on a new, empty file (before the first table; the page size before WAL
        // mode too): auto_vacuum lets retention return freed pages to the file system with `incremental_vacuum`.
        // An older file keeps its page size and mode (freed pages are reused).
        db.pragma(`page_size = ${newFilePageSize(config)}`)
        db.pragma('auto_vacuum = INCREMENTAL')
        db.pragma(`synchronous = ${config.database.synchronous}`)
        db.pragma('foreign_keys = ON')
        db.pragma('busy_timeout = 5000')
      }
    }
  }
  return new DataSource(options)
}
