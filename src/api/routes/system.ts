import { createReadStream } from 'node:fs'
import { basename, join } from 'node:path'
import { GatewayError } from '../../errors.js'
import { backupDir, listBackups, sqliteFile, type BackupFile } from '../../persistence/sqlite-files.js'
import { BackupService } from '../../services/backups.js'
import { caPem, dirBytes, hostInfo } from '../../services/system-info.js'
import { version } from '../../version.js'
import { creates, route, type RouteSpec, type Schema } from '../route-table.js'
import { storagePart } from './health.js'

const backupSchema: Schema = {
  type: 'object',
  additionalProperties: false,
  required: ['name', 'at', 'bytes'],
  properties: {
    name: { type: 'string', description: 'the file name in the backup directory (what the download route takes)' },
    at: { type: 'string', format: 'date-time' },
    bytes: { type: 'integer' }
  }
}

const bytes = { type: 'integer', minimum: 0 }
const systemSchema: Schema = {
  type: 'object',
  required: ['version', 'gatewayId', 'startedAt', 'uptimeS', 'host', 'storage', 'broker', 'mqtt', 'backups'],
  properties: {
    version: { type: 'string' },
    gatewayId: { type: 'string' },
    startedAt: { type: 'string', format: 'date-time' },
    uptimeS: { type: 'integer' },
    host: {
      type: 'object',
      required: ['load', 'cpus', 'cpuTemperatureC', 'memory'],
      properties: {
        load: { type: 'array', items: { type: 'number' }, description: '1, 5 and 15 minute load averages' },
        cpus: { type: 'integer' },
        cpuTemperatureC: { type: ['number', 'null'], description: 'from /sys/class/thermal; null where there is none' },
        memory: {
          type: 'object',
          required: ['totalBytes', 'freeBytes', 'processRssBytes'],
          properties: { totalBytes: bytes, freeBytes: bytes, processRssBytes: bytes }
        }
      }
    },
    storage: {
      type: 'object',
      required: ['dataDir', 'diskFreeBytes', 'diskTotalBytes', 'dbBytes'],
      properties: {
        dataDir: { type: 'string' }, diskFreeBytes: bytes, diskTotalBytes: bytes, dbBytes: { type: ['integer', 'null'] }
      }
    },
    broker: {
      type: 'object',
      required: ['clients', 'storeBytes'],
      properties: { clients: { type: 'integer' }, storeBytes: { ...bytes, description: 'the broker\'s level store' } }
    },
    mqtt: {
      type: 'object',
      required: ['port', 'tlsPort', 'caPem'],
      description: 'what a device is provisioned with (the configured ports; the CA when MQTT over TLS is on)',
      properties: {
        port: { type: 'integer' }, tlsPort: { type: ['integer', 'null'] }, caPem: { type: ['string', 'null'] }
      }
    },
    backups: {
      type: 'object',
      required: ['supported', 'enabled', 'dir', 'keep', 'items'],
      properties: {
        supported: { type: 'boolean', description: 'false on PostgreSQL or an in-memory database' },
        enabled: { type: 'boolean', description: 'scheduled backups (backup.enabled)' },
        dir: { type: 'string' },
        keep: { type: 'integer' },
        items: { type: 'array', items: backupSchema, description: 'newest first' }
      }
    }
  }
}

const backupView = (b: BackupFile): Record<string, unknown> =>
  ({ name: basename(b.file), at: new Date(b.at).toISOString(), bytes: b.bytes })

/** `GET /system`, backups taken and downloaded: what the panel's System view shows (issue #20). Admins only. */
export const systemRoutes: RouteSpec[] = [
  route({
    id: 'system.get',
    method: 'GET',
    path: '/system',
    role: 'admin',
    tag: 'system',
    summary: 'The gateway and its machine: version, uptime, load, CPU temperature, memory, disk, store sizes, backups',
    response: systemSchema,
    handler: async (_req, app) => {
      const file = sqliteFile(app.config)
      const dir = backupDir(app.config)
      return {
        version,
        gatewayId: app.config.gatewayId,
        startedAt: new Date(app.startedAt).toISOString(),
        uptimeS: Math.round((app.clock.now() - app.startedAt) / 1000),
        host: hostInfo(),
        storage: storagePart(app),
        broker: { clients: app.broker.aedes.connectedClients, storeBytes: dirBytes(join(app.config.dataDir, 'mqtt')) },
        mqtt: {
          port: app.config.mqtt.port,
          tlsPort: app.config.tls.mqtt.enabled ? app.config.tls.mqtt.port : null,
          caPem: app.config.tls.mqtt.enabled ? caPem(app.config) : null
        },
        backups: {
          supported: file !== undefined,
          enabled: app.config.backup.enabled,
          dir,
          keep: app.config.backup.keep,
          items: file === undefined ? [] : listBackups(dir, file).map(backupView)
        }
      }
    }
  }),
  route({
    ...creates,
    id: 'system.backup',
    path: '/system/backups',
    tag: 'system',
    summary: 'Takes an online backup of the SQLite database now (rotated like the scheduled ones)',
    response: backupSchema,
    errors: ['GW_ERR_BACKUP_UNSUPPORTED', 'GW_ERR_BACKUP_FAILED'],
    handler: async (req, app) => {
      if (sqliteFile(app.config) === undefined) throw new GatewayError('GW_ERR_BACKUP_UNSUPPORTED')
      let made: BackupFile
      try {
        made = await new BackupService(app).backupNow()
      } catch (err) {
        throw new GatewayError('GW_ERR_BACKUP_FAILED', `backup failed: ${(err as Error).message}`)
      }
      // Who took it, in the event log (and live in every admin's panel).
      const view = backupView(made)
      await app.events.log({
        level: 'info',
        type: 'backup.taken',
        source: 'api',
        action: 'backup',
        target: view.name as string,
        username: req.user.username,
        payload: { bytes: made.bytes }
      })
      return view
    }
  }),
  route<{ name: string }>({
    id: 'system.backupDownload',
    method: 'GET',
    path: '/system/backups/:name',
    role: 'admin',
    tag: 'system',
    summary: 'Downloads one backup file (application/vnd.sqlite3)',
    params: {
      type: 'object',
      required: ['name'],
      properties: {
        name: { type: 'string', pattern: '^[A-Za-z0-9._-]{1,200}\\.db$', description: 'a name from GET /system' }
      }
    },
    errors: ['GW_ERR_BACKUP_NOT_FOUND'],
    handler: async (req, app) => {
      const file = sqliteFile(app.config)
      // Only a file the listing shows: the name is matched against it, never joined onto a path unchecked.
      const all = file === undefined ? [] : listBackups(backupDir(app.config), file)
      const found = all.find(b => basename(b.file) === req.params.name)
      if (found === undefined) throw new GatewayError('GW_ERR_BACKUP_NOT_FOUND', `no backup named ${req.params.name}`)
      req.koa.type = 'application/vnd.sqlite3'
      req.koa.length = found.bytes
      req.koa.attachment(req.params.name)
      return createReadStream(found.file)
    }
  })
]
