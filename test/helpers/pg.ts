import 'reflect-metadata'
import { randomBytes } from 'node:crypto'
import type { Test } from 'tap'
import { DataSource } from 'typeorm'
import { entities } from '../../entities/index.js'
import { migrations } from '../../src/persistence/migrations/index.js'

/**
 * A migrated DataSource on a throwaway schema of the test PostgreSQL server (`AUTOCORE_TEST_PG_URL`), dropped at
 * teardown. search_path points at the schema, so the repositories' unqualified SQL lands in it.
 */
export async function pgDataSource (t: Test, url: string): Promise<DataSource> {
  const schema = `autocore_test_${randomBytes(4).toString('hex')}`
  const admin = new DataSource({ type: 'postgres', url })
  await admin.initialize()
  t.teardown(async () => { await admin.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`); await admin.destroy() })
  await admin.query(`CREATE SCHEMA "${schema}"`)
  const ds = new DataSource({
    type: 'postgres',
    url: `${url}?options=${encodeURIComponent(`-c search_path=${schema}`)}`,
    schema,
    entities,
    migrations
  })
  t.teardown(async () => { if (ds.isInitialized) await ds.destroy() })
  await ds.initialize()
  await ds.runMigrations()
  return ds
}
