import t from 'tap'
import { TelemetryBuffer, type TelemetryWriter } from '../../src/services/telemetry-buffer.js'
import type { TelemetryRow } from '../../src/persistence/repositories/telemetry.js'
import { FakeClock } from '../helpers/fake-clock.js'
import { captureLogger } from '../helpers/app.js'

const reading = (i: number): TelemetryRow => ({
  deviceId: 1,
  key: 'k',
  value: i,
  valueText: null,
  unit: null,
  dataType: 'number',
  ts: i
})
const turn = async (): Promise<void> => {
  for (let i = 0; i < 3; i++) await new Promise(resolve => setImmediate(resolve))
}

/** A writer that records batches; `gate` (when set) holds each write until released. */
function recorder () {
  const batches: number[][] = []
  let busy = false
  let fail: Error | undefined
  let gate: Promise<void> | undefined
  const writer: TelemetryWriter = {
    insertBatch: async rows => {
      if (gate !== undefined) await gate
      if (fail !== undefined) throw fail
      batches.push(rows.map(r => r.value as number))
      return { dropped: 0 }
    },
    busy: () => busy
  }
  return {
    writer,
    batches,
    setBusy: (b: boolean) => { busy = b },
    setFail: (e?: Error) => { fail = e },
    hold: () => {
      let release!: () => void
      gate = new Promise<void>(resolve => {
        release = resolve
      })
      return () => {
        gate = undefined
        release()
      }
    }
  }
}

t.test('flushes on size and on age (injected clock), one transaction per batch', async t => {
  const clock = new FakeClock()
  const rec = recorder()
  const buf = new TelemetryBuffer(
    rec.writer,
    { batchSize: 3, flushIntervalMs: 100, maxBuffered: 100 },
    clock,
    captureLogger().log
  )
  buf.append([reading(1), reading(2)], false)
  await turn()
  t.same(rec.batches, [], 'below size, not yet due')
  clock.advance(60)
  t.equal(buf.state().lagMs, 60)
  await clock.tick(40)
  t.same(rec.batches, [[1, 2]], 'flushed at flushIntervalMs')
  buf.append([reading(3), reading(4), reading(5)], false)
  await turn()
  t.same(rec.batches, [[1, 2], [3, 4, 5]], 'flushed on size without waiting for the clock')
  t.match(buf.state(), { buffered: 0, lagMs: 0, written: 5, batches: 2 })
})

t.test('a durable append resolves only when its batch is committed; a failed batch rejects', async t => {
  const clock = new FakeClock()
  const rec = recorder()
  const { log, lines } = captureLogger()
  const buf = new TelemetryBuffer(rec.writer, { batchSize: 10, flushIntervalMs: 100, maxBuffered: 100 }, clock, log)
  let acked = false
  const p = buf.append([reading(1)], true)
  t.ok(p instanceof Promise)
  const q = buf.append([reading(2)], true)
  t.equal(p, q, 'one promise per batch (group commit), none per reading')
  void p?.then(() => { acked = true })
  t.equal(acked, false)
  await turn()
  t.equal(acked, true, 'committed at the next turn (group commit), without waiting for flushIntervalMs')
  t.same(rec.batches[0], [1, 2])
  t.equal(await p, 'deliver')

  rec.setFail(new Error('disk full'))
  const r = (buf.append([reading(3)], true) as Promise<unknown>).catch((err: Error) => err)
  await turn()
  t.match(await r, { message: 'disk full' })
  t.match(buf.state(), { failed: 1 })
  t.ok(lines.some(l => l.msg === 'telemetry batch not written' && l.readings === 1))
})

t.test('past maxBuffered new readings wait (backpressure), visible in state and logs, released when ' +
  'written', async t => {
  const clock = new FakeClock()
  const rec = recorder()
  const { log, lines } = captureLogger()
  const buf = new TelemetryBuffer(rec.writer, { batchSize: 1000, flushIntervalMs: 10, maxBuffered: 4 }, clock, log)
  const release = rec.hold()
  buf.append([reading(1), reading(2), reading(3), reading(4), reading(5)], false)
  await clock.tick(10)
  t.equal(buf.state().buffered, 5, 'being written')
  let accepted = false
  const waiting = buf.append([reading(6)], false)
  void waiting?.then(() => { accepted = true })
  t.ok(waiting instanceof Promise, 'even QoS 0 waits: the broker reads nothing more from that client meanwhile')
  t.match(buf.state(), { backpressure: true, waiting: 1 })
  t.ok(lines.some(l => l.msg === 'telemetry backpressure on' && l.maxBuffered === 4))
  await turn()
  t.equal(accepted, false)
  release()
  await turn()
  t.equal(accepted, true)
  t.ok(lines.some(l => l.msg === 'telemetry backpressure off'))
  await clock.tick(10)
  t.same(rec.batches, [[1, 2, 3, 4, 5], [6]])
})

t.test('waits while another transaction holds the connection; drain writes everything and keeps accepting', async t => {
  const clock = new FakeClock()
  const rec = recorder()
  const buf = new TelemetryBuffer(
    rec.writer,
    { batchSize: 1000, flushIntervalMs: 10, maxBuffered: 100 },
    clock,
    captureLogger().log
  )
  rec.setBusy(true)
  buf.append([reading(1)], false)
  await clock.tick(10)
  t.same(rec.batches, [], 'not nested into a foreign transaction')
  rec.setBusy(false)
  await turn()
  t.same(rec.batches, [[1]])
  buf.append([reading(2)], false)
  await buf.drain()
  t.same(rec.batches, [[1], [2]])
  buf.append([reading(3)], false)
  await turn()
  t.same(rec.batches, [[1], [2], [3]], 'after stop each append is written at once')
})

t.test('a synchronous writer writes a full buffer at once, in the publish that finds it full: nobody ' +
  'waits', async t => {
  const clock = new FakeClock()
  const rec = recorder()
  const { log, lines } = captureLogger()
  const sync: number[][] = []
  const writer: TelemetryWriter = {
    ...rec.writer,
    insertBatchSync: rows => {
      sync.push(rows.map(r => r.value as number))
      return { dropped: 0 }
    }
  }
  const buf = new TelemetryBuffer(writer, { batchSize: 1000, flushIntervalMs: 10, maxBuffered: 4 }, clock, log)
  const durable = buf.append([reading(1), reading(2), reading(3), reading(4), reading(5)], true)
  let committed = false
  void durable?.then(() => { committed = true })
  t.equal(buf.append([reading(6)], false), undefined, 'accepted at once: no backpressure promise')
  t.same(sync, [[1, 2, 3, 4, 5]], 'the full buffer was written before the reading was accepted')
  t.match(buf.state(), { buffered: 1, backpressure: false, waiting: 0, written: 5, batches: 1 })
  await Promise.resolve()
  t.equal(committed, true, 'the durable readings of that batch are acknowledged')
  t.notOk(lines.some(l => l.msg === 'telemetry backpressure on'))
  await clock.tick(10)
  t.same(rec.batches, [[6]], 'the rest goes by the usual path')

  // The connection held by another transaction, or publishes already waiting: the append waits as before.
  buf.append([reading(7), reading(8), reading(9), reading(10), reading(11)], false)
  rec.setBusy(true)
  const waiting = buf.append([reading(12)], false)
  t.ok(waiting instanceof Promise, 'a busy connection is not written to: the publish waits')
  rec.setBusy(false)
  t.ok(buf.append([reading(13)], false) instanceof Promise, 'and the next one queues behind it, in order')
  await turn()
  await waiting
  await buf.drain()
  t.same(
    [...sync, ...rec.batches].flat().sort((a, b) => a - b),
    Array.from({ length: 13 }, (_, i) => i + 1),
    'every reading written once'
  )
})
