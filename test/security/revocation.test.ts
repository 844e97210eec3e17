import { SignJWT } from 'jose'
import t, { type Test } from 'tap'
import { changeUser } from '../../src/services/accounts.js'
import { rotateDeviceSecret } from '../../src/services/provisioning.js'
import { startApp, type RunningApp } from '../helpers/app.js'
import { createUser, deviceClient, login } from '../helpers/devices.js'
import { FakeClock } from '../helpers/fake-clock.js'
import { connect, type Client } from '../helpers/mqtt.js'
import { connectPacket, rawConnack } from '../helpers/raw-mqtt.js'

// #13 item 9: a password change, a role change, a disable or a rotated secret ends the identity's live sessions
// and revokes its older tokens (API and MQTT); an MQTT session ends when its JWT expires; a JWT without exp is refused.

const RECHECK_MS = 5000

async function setup (t: Test): Promise<{ app: RunningApp, clock: FakeClock, admin: string }> {
  const clock = new FakeClock(Date.now())
  const app = await startApp(t, { clock, config: { auth: { sessionRecheckMs: RECHECK_MS, jwtExpiresInS: 3600 } } })
  const a = await createUser(app, { role: 'admin' })
  return { app, clock, admin: await login(app, a.username, a.password) }
}

async function me (app: RunningApp, token: string): Promise<number> {
  return (await fetch(`${app.httpUrl}/api/v1/auth/me`, { headers: { authorization: `Bearer ${token}` } })).status
}

async function patchUser (app: RunningApp, admin: string, username: string, body: unknown): Promise<number> {
  const res = await fetch(`${app.httpUrl}/api/v1/users/${username}`, {
    method: 'PATCH',
    headers: { authorization: `Bearer ${admin}`, 'content-type': 'application/json' },
    body: JSON.stringify(body)
  })
  return res.status
}

/** Resolves once the client's connection closes (rejects after 10 s). */
async function closed (c: Client): Promise<void> {
  if (!c.connected) return
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('connection still open')), 10_000)
    c.once('close', () => { clearTimeout(timer); resolve() })
  })
}

async function mqttConnack (app: RunningApp, username: string, token: string): Promise<number> {
  return await rawConnack(
    app.gateway.mqttPort,
    connectPacket({ clientId: `probe-${Math.random()}`, clean: true, username, password: token })
  )
}

async function viewerSession (
  t: Test,
  app: RunningApp
): Promise<{ username: string, password: string, token: string, client: Client }> {
  const u = await createUser(app, { role: 'viewer' })
  const token = await login(app, u.username, u.password)
  const client = await connect(t, app.wsUrl, { username: u.username, password: token })
  return { ...u, token, client }
}

t.test('a password change over the API ends the live session and revokes older tokens (API and MQTT)', async t => {
  const { app, admin } = await setup(t)
  const v = await viewerSession(t, app)
  t.equal(await me(app, v.token), 200)
  t.equal(await patchUser(app, admin, v.username, { password: 'a-brand-new-password' }), 200)
  await closed(v.client)
  t.equal(await me(app, v.token), 401, 'the old token is refused by the API')
  t.equal(await mqttConnack(app, v.username, v.token), 4, 'and by MQTT (CONNACK 4)')
  const fresh = await login(app, v.username, 'a-brand-new-password')
  t.equal(await me(app, fresh), 200, 'a token issued after works')
  t.equal(await mqttConnack(app, v.username, fresh), 0)
})

t.test('a role change or a disable made by the CLI (another process) ends the session at the next recheck and ' +
  'revokes the tokens', async t => {
  const { app, clock } = await setup(t)
  const users = app.gateway.services.repos.users
  const v = await viewerSession(t, app)
  // What `autocore-gateway user` runs, on the same database, outside this process's API.
  await changeUser(users, v.username, { role: 'operator' }, () => clock.now())
  await clock.tick(RECHECK_MS)
  await closed(v.client)
  t.equal(await me(app, v.token), 401)
  t.equal(await mqttConnack(app, v.username, v.token), 4)

  const w = await viewerSession(t, app)
  await changeUser(users, w.username, { enabled: false }, () => clock.now())
  await clock.tick(RECHECK_MS)
  await closed(w.client)
  await changeUser(users, w.username, { enabled: true }, () => clock.now())
  t.equal(await me(app, w.token), 401, 'a token from before the disable stays revoked after enabling again')
  t.equal(await mqttConnack(app, w.username, w.token), 4)
})

t.test('a PATCH that changes nothing security-relevant keeps tokens and sessions', async t => {
  const { app, admin, clock } = await setup(t)
  const v = await viewerSession(t, app)
  t.equal(await patchUser(app, admin, v.username, { role: 'viewer', enabled: true }), 200)
  await clock.tick(RECHECK_MS)
  t.equal(await me(app, v.token), 200)
  t.ok(v.client.connected)
})

t.test('rotate-secret ends the device\'s live session, over the API at once and from the CLI at the next ' +
  'recheck', async t => {
  const { app, admin, clock } = await setup(t)
  const d = await deviceClient(t, app)
  const res = await fetch(`${app.httpUrl}/api/v1/devices/${d.uuid}/rotate-secret`, {
    method: 'POST',
    headers: { authorization: `Bearer ${admin}` }
  })
  t.equal(res.status, 200)
  await closed(d.client)
  const { secret } = await res.json() as { secret: string }
  t.equal(
    await rawConnack(
      app.gateway.mqttPort,
      connectPacket({ clientId: d.uuid, clean: true, username: d.uuid, password: d.secret })
    ),
    4,
    'old secret refused'
  )

  const again = await connect(t, app.mqttUrl, { clientId: d.uuid, username: d.uuid, password: secret })
  await rotateDeviceSecret(app.gateway.services.repos.devices, d.uuid, () => clock.now())
  await clock.tick(RECHECK_MS)
  await closed(again)
  t.pass('closed after a rotation by another process')
})

t.test('an MQTT session ends when its JWT expires', async t => {
  const { app, clock } = await setup(t)
  const v = await viewerSession(t, app)
  await clock.tick(3599_000)
  t.ok(v.client.connected, 'open while the token is valid')
  await clock.tick(1000)
  await closed(v.client)
  t.ok(app.logs.some(l => l.msg === 'mqtt connection closed: its identity changed' && l.reason === 'token expired'))
})

t.test('a correctly signed token without exp is refused by the API and MQTT', async t => {
  const { app, clock } = await setup(t)
  const u = await createUser(app, { role: 'admin' })
  const forever = await new SignJWT({ role: 'admin' }).setProtectedHeader({ alg: 'HS256' }).setSubject(u.username)
    .setIssuer('autocore-gateway').setIssuedAt(Math.floor(clock.now() / 1000)).sign(app.gateway.services.auth.jwtKey)
  t.equal(await me(app, forever), 401)
  t.equal(await mqttConnack(app, u.username, forever), 4)
})
