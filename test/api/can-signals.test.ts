import t from 'tap'
import { startApp } from '../helpers/app.js'
import { harness } from './cases/harness.js'
import { storedSignal } from './cases/can-signals.js'

t.test('CAN signal bit ranges are checked with the decoder\'s numbering, naming the field', async t => {
  const h = harness(await startApp(t), t)
  const admin = await h.token('admin')
  const create = async (body: Record<string, unknown>): Promise<any> =>
    await h.call('POST', '/can-signals', { token: admin, body: { name: `s${Math.random()}`, canId: 0x123, ...body } })
  const refused = {
    status: 400,
    body: { error: { code: 'GW_ERR_HTTP_VALIDATION', details: [{ in: 'body', field: '/length' }] } }
  }

  t.match(await create({ startBit: 56, length: 8 }), { status: 201 }, 'little endian: the last byte')
  t.match(await create({ startBit: 60, length: 8 }), refused, 'little endian: past bit 63')
  t.match(await create({ startBit: 0, length: 64 }), { status: 201 }, 'little endian: the whole frame')
  t.match(
    await create({ startBit: 7, length: 64, byteOrder: 'big' }),
    { status: 201 },
    'big endian: MSB of byte 0, the whole frame'
  )
  t.match(
    await create({ startBit: 0, length: 9, byteOrder: 'big' }),
    { status: 201 },
    'big endian: bit 0 then on into byte 1'
  )
  t.match(
    await create({ startBit: 56, length: 9, byteOrder: 'big' }),
    refused,
    'big endian: byte 7 then past the frame'
  )
  t.match(await create({ startBit: 64, length: 1 }), {
    status: 400,
    body: { error: { details: [{ field: '/startBit' }] } }
  })
  t.match(await create({ startBit: 0, length: 0 }), {
    status: 400,
    body: { error: { details: [{ field: '/length' }] } }
  })
  t.match(await create({ startBit: 0, length: 8, byteOrder: 'middle' }), {
    status: 400,
    body: { error: { details: [{ field: '/byteOrder' }] } }
  })
  t.match(
    await create({ startBit: 0, length: 8, canId: 0x20000000 }),
    { status: 400, body: { error: { details: [{ field: '/canId' }] } } },
    'ids fit 29 bits'
  )
  t.match(await create({ startBit: 0, length: 8, min: 10, max: 5 }), {
    status: 400,
    body: { error: { details: [{ field: '/max' }] } }
  })
  t.match(await create({ startBit: 0, length: 8, deviceUuid: 'no-such-bridge' }), {
    status: 404,
    body: { error: { code: 'GW_ERR_DEVICE_NOT_FOUND' } }
  })

  // A change is checked on the signal as it would be stored.
  const id = await storedSignal(h, { startBit: 0, length: 8 })
  t.match(
    await h.call('PATCH', `/can-signals/${id}`, { token: admin, body: { startBit: 60 } }),
    refused,
    'the stored length no longer fits'
  )
  t.match(await h.call('PATCH', `/can-signals/${id}`, { token: admin, body: { startBit: 56 } }), {
    status: 200,
    body: { startBit: 56, length: 8 }
  })
  t.match(await h.call('PATCH', `/can-signals/${id}`, { token: admin, body: { deviceUuid: null, unit: null } }), {
    status: 200,
    body: { deviceUuid: null, unit: null }
  })
})
