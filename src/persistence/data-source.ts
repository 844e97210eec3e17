import { mkdirSync } from 'node:fs'
import { join } from 'node:path'
import { DataSource, type DataSourceOptions } from 'typeorm'
import { entities } from '../../entities/index.js'
import { migrations } from './migrations/index.js'
import type { Config } from '../config/types.js'

/** The DataSource for the configured engine. Schema changes only through migrations, never synchronize. */
export function createDataSource (config: Pick<Config, 'dataDir' | 'database'>): DataSource {
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
        // Takes effect only on a new, empty file (before the first table): lets retention return freed pages
        // to the file system with `incremental_vacuum`. An older file keeps its mode (freed pages are reused).
        db.pragma('auto_vacuum = INCREMENTAL')
        db.pragma(`synchronous = ${config.database.synchronous}`)
        db.pragma('foreign_keys = ON')
        db.pragma('busy_timeout = 5000')
      }
    }
  }
  return new DataSource(options)
}
