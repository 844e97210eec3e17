import t from 'tap'
import { startApp } from '../helpers/app.js'
import { addChannels } from '../helpers/boards.js'
import { createUser, deviceClient, login, provisionDevice } from '../helpers/devices.js'
import { waitFor } from '../helpers/mqtt.js'
import { retainedMessages } from '../../src/broker/retained.js'

// A display's screens (issue #20): every enabled screen retained on autocore/config/screens/{id} with its items
// naming their relay by board and channel; re-published after each change over the API, cleared when disabled or
// deleted; the same after a restart (stale ones cleared, none sent twice).

interface ScreenMsg { id: number, title: string, items: Array<{ label: string, relay: unknown }> }

t.test('a display receives its screens, their changes, and their removal', async t => {
  const dataDir = t.testdir()
  let app = await startApp(t, { dataDir })
  const admin = await createUser(app, { role: 'admin' })
  const token = await login(app, admin.username, admin.password)
  const api = async (method: string, path: string, body?: unknown): Promise<any> => {
    const res = await fetch(`${app.httpUrl}/api/v1${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body)
    })
    t.ok(res.status < 300, `${method} ${path}: ${res.status}`)
    return res.status === 204 ? undefined : await res.json()
  }

  const board = await provisionDevice(app, { type: 'relay_board', name: 'Front board' })
  const ids = await addChannels(app, board.uuid, [{ channel: 1, name: 'Lights' }, { channel: 2, name: 'Horn' }])
  const main = await api('POST', '/screens', { name: 'main', title: 'Main' })
  const lights = { itemType: 'button', label: 'Lights', relayChannelId: ids[1] }
  await api('POST', `/screens/${main.id as number}/items`, lights)
  const horn = await api('POST', `/screens/${main.id as number}/items`, {
    itemType: 'button', label: 'Horn', relayChannelId: ids[2], position: 1, mutexGroup: 'noise'
  })
  const off = await api('POST', '/screens', { name: 'spare', title: 'Spare', enabled: false })

  const got = new Map<string, string[]>()
  const { client } = await deviceClient(t, app, { type: 'display', capabilities: ['display'] })
  client.on('message', (topic, payload) => { got.set(topic, [...(got.get(topic) ?? []), payload.toString()]) })
  await client.subscribeAsync('autocore/config/screens/+', { qos: 1 })
  const topic = `autocore/config/screens/${main.id as number}`
  const last = (): ScreenMsg | undefined => {
    const all = got.get(topic) ?? []
    return all.length === 0 || all[all.length - 1] === '' ? undefined : JSON.parse(all[all.length - 1]) as ScreenMsg
  }
  await waitFor(() => last() !== undefined)
  t.match(last(), {
    id: main.id,
    name: 'main',
    title: 'Main',
    device_type: null,
    items: [
      { label: 'Lights', type: 'button', relay: { uuid: board.uuid, channel: 1, name: 'Lights', function: 'toggle' } },
      { label: 'Horn', mutex_group: 'noise', relay: { uuid: board.uuid, channel: 2, name: 'Horn' } }
    ]
  }, 'the retained screen, items in order, each naming its board and channel')
  t.notOk(got.has(`autocore/config/screens/${off.id as number}`), 'a disabled screen is not sent')

  await api('PATCH', `/screens/items/${horn.id as number}`, { label: 'Hooter' })
  await waitFor(() => last()?.items[1]?.label === 'Hooter')
  await api('PATCH', `/relays/${ids[1]}`, { name: 'Beams' })
  await waitFor(() => (last()?.items[0]?.relay as { name?: string } | null)?.name === 'Beams')
  await api('DELETE', `/relays/${ids[2]}`)
  await waitFor(() => last()?.items[1]?.relay === null)
  t.pass('an item change, a renamed channel and a removed one each re-publish the screen')

  // A channel no screen names: renamed, nothing is re-sent (the next item change is the only message after it).
  const spare = await addChannels(app, board.uuid, [{ channel: 3, name: 'Spare' }])
  const before = (got.get(topic) ?? []).length
  await api('PATCH', `/relays/${spare[3]}`, { name: 'Aux' })
  await api('PATCH', `/screens/items/${horn.id as number}`, { label: 'Siren' })
  await waitFor(() => last()?.items[1]?.label === 'Siren')
  t.equal((got.get(topic) ?? []).length, before + 1, 'a channel no screen names changes no screen message')

  await api('PATCH', `/screens/${main.id as number}`, { enabled: false })
  await waitFor(() => (got.get(topic) ?? []).at(-1) === '')
  t.pass('disabled: its retained message is cleared')
  await api('PATCH', `/screens/${main.id as number}`, { enabled: true, title: 'Drive' })
  await waitFor(() => last()?.title === 'Drive')

  // Across a restart: what is stored is what stays retained; a screen deleted behind the gateway's back (straight
  // in the database) loses its retained message at the next start.
  const keep = await api('POST', '/screens', { name: 'keep', title: 'Keep', deviceType: 'display' })
  await waitFor(() => got.has(`autocore/config/screens/${keep.id as number}`))
  await app.gateway.services.repos.screens.delete(main.id as number)
  client.end(true)
  await app.stop()
  app = await startApp(t, { dataDir })
  const retained = await retainedMessages(app.gateway.services.broker.aedes, 'autocore/config/screens/+')
  t.same([...retained.keys()], [`autocore/config/screens/${keep.id as number}`], 'only the stored, enabled screen')
  t.match(JSON.parse(retained.get(`autocore/config/screens/${keep.id as number}`)?.toString() ?? '{}'), {
    title: 'Keep', device_type: 'display', items: []
  })
})
