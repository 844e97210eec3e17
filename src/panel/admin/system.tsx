import { Placeholder, ViewHeader } from '../components/ui.js'
import type { Panel } from '../controller.js'
import { clock } from '../format.js'
import type { PanelState } from '../model.js'
import { bytes, FormError, Section, useAction } from './forms.js'
import { useResource } from './use-resource.js'

export interface SystemInfo {
  version: string
  gatewayId: string
  startedAt: string
  uptimeS: number
  host: {
    load: [number, number, number]
    cpus: number
    cpuTemperatureC: number | null
    memory: { totalBytes: number, freeBytes: number, processRssBytes: number }
  }
  storage: { dataDir: string, diskFreeBytes: number, diskTotalBytes: number, dbBytes: number | null }
  broker: { clients: number, storeBytes: number }
  mqtt: { port: number, tlsPort: number | null, caPem: string | null }
  backups: { supported: boolean, enabled: boolean, dir: string, keep: number, items: BackupItem[] }
}
interface BackupItem { name: string, at: string, bytes: number }

function duration (s: number): string {
  const d = Math.floor(s / 86400)
  const h = Math.floor((s % 86400) / 3600)
  const m = Math.floor((s % 3600) / 60)
  return d > 0 ? `${d} d ${h} h` : h > 0 ? `${h} h ${m} min` : `${m} min ${s % 60} s`
}

interface MetricProps { id: string, label: string, value: string, note?: string, absent?: boolean }

function Metric (props: MetricProps): preact.JSX.Element {
  return (
    <div class='card metric-card' data-metric={props.id} data-absent={props.absent === true ? 'true' : undefined}>
      <span class='metric-label'>{props.label}</span>
      <strong class='metric-big'>{props.value}</strong>
      {props.note === undefined ? null : <span class='metric-note'>{props.note}</span>}
    </div>
  )
}

function Metrics (props: { s: SystemInfo }): preact.JSX.Element {
  const { s } = props
  const temp = s.host.cpuTemperatureC
  const mem = s.host.memory
  return (
    <div class='grid grid-metrics'>
      <Metric id='version' label='Version' value={s.version} note={s.gatewayId} />
      <Metric id='uptime' label='Uptime' value={duration(s.uptimeS)} />
      <Metric
        id='load' label='CPU load' value={s.host.load[0].toFixed(2)}
        note={`${s.host.cpus} CPUs · 5 min ${s.host.load[1].toFixed(2)}`}
      />
      {temp === null
        ? <Metric id='cpuTemp' label='CPU temperature' value='—' note='no sensor on this machine' absent />
        : <Metric id='cpuTemp' label='CPU temperature' value={`${temp.toFixed(1)} °C`} />}
      <Metric
        id='memory' label='Memory free' value={bytes(mem.freeBytes)}
        note={`of ${bytes(mem.totalBytes)} · gateway ${bytes(mem.processRssBytes)}`}
      />
      <Metric
        id='disk' label='Disk free' value={bytes(s.storage.diskFreeBytes)}
        note={`of ${bytes(s.storage.diskTotalBytes)}`}
      />
      <Metric id='db' label='Database' value={bytes(s.storage.dbBytes)} />
      <Metric
        id='broker' label='Broker store' value={bytes(s.broker.storeBytes)} note={`${s.broker.clients} clients`}
      />
    </div>
  )
}

async function save (panel: Panel, name: string): Promise<void> {
  const blob = await panel.rest?.blob(`/system/backups/${encodeURIComponent(name)}`)
  if (blob === undefined) return
  const a = document.createElement('a')
  a.href = URL.createObjectURL(blob)
  a.download = name
  a.click()
  setTimeout(() => URL.revokeObjectURL(a.href), 10_000)
}

function Backups (props: { panel: Panel, s: SystemInfo, now: number, reload: () => void }): preact.JSX.Element {
  const { panel, s } = props
  const take = useAction()
  const b = s.backups
  if (!b.supported) return <Placeholder>Backups cover SQLite only (PostgreSQL: use pg_dump).</Placeholder>
  return (
    <Section title='Backups' testid='backups'>
      <p class='hint'>{b.enabled ? 'Scheduled' : 'Not scheduled'} · keeps {b.keep} · {b.dir}</p>
      <button
        class='btn btn-primary' data-testid='backup-now' disabled={take.busy}
        onClick={() => {
          void take.run(async () => {
            await panel.rest?.call('POST', '/system/backups')
            props.reload()
          })
        }}
      >{take.busy ? 'Backing up…' : 'Back up now'}
      </button>
      <FormError errors={take.errors} />
      <ul class='rows' data-testid='backup-list'>
        {b.items.length === 0 ? <li class='hint'>No backup yet.</li> : null}
        {b.items.map(i => (
          <li key={i.name} class='row' data-backup={i.name}>
            <span class='row-main'>
              <strong>{clock(i.at, props.now)}</strong><span class='hint'>{bytes(i.bytes)}</span>
            </span>
            <button class='btn' aria-label={`Download ${i.name}`} onClick={() => { void save(panel, i.name) }}>
              Download
            </button>
          </li>
        ))}
      </ul>
    </Section>
  )
}

function EventLog (props: { state: PanelState }): preact.JSX.Element {
  return (
    <Section title='Event log' testid='system-events'>
      <ul class='rows'>
        {props.state.events.slice(0, 30).map(e => (
          <li key={e.id} class={`row row-${e.level}`} data-event={e.id}>
            <span class='row-main'>
              <strong>{e.type}</strong>
              <span class='hint'>{e.source}{e.target === null ? '' : ` · ${e.target}`}</span>
            </span>
            <span class='hint'>{clock(e.ts, props.state.now)}</span>
          </li>
        ))}
      </ul>
    </Section>
  )
}

/** The gateway and its machine (GET /system), backups, and the event log. Admins only. */
export function SystemView (props: { panel: Panel, state: PanelState }): preact.JSX.Element {
  const sys = useResource<SystemInfo>(props.panel.rest, '/system', props.state, 5000)
  return (
    <section>
      <ViewHeader title='System' />
      {sys.error !== null ? <Placeholder tone='error'>System: {sys.error}</Placeholder> : null}
      {sys.data === null ? <Placeholder>Loading…</Placeholder> : null}
      {sys.data === null
        ? null
        : (
          <>
            <Metrics s={sys.data} />
            <div class='admin-cols'>
              <Backups panel={props.panel} s={sys.data} now={props.state.now} reload={sys.reload} />
              <EventLog state={props.state} />
            </div>
          </>
          )}
    </section>
  )
}
