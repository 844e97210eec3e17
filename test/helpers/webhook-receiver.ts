import { createHmac, timingSafeEqual } from 'node:crypto'
import http, { type IncomingHttpHeaders, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { Test } from 'tap'

export interface Hit { headers: IncomingHttpHeaders, body: string, json: any }

/** A status to answer with, or 'hang': never answer (until the receiver closes). */
export type Answer = number | 'hang'

export interface Receiver {
  url: string
  hits: Hit[]
  /** Decides each answer; replace it to change the receiver's mood. `n` counts from 1. */
  respond: (hit: Hit, n: number) => Answer
  /** Hits with this delivery id (X-AutoCore-Delivery). */
  of: (deliveryId: number) => Hit[]
}

/** A real HTTP receiver on 127.0.0.1, port 0, closed at teardown. */
export async function startReceiver (t: Test, respond: Receiver['respond'] = () => 200): Promise<Receiver> {
  const hanging: ServerResponse[] = []
  const r: Receiver = {
    url: '',
    hits: [],
    respond,
    of: id => r.hits.filter(h => h.headers['x-autocore-delivery'] === String(id))
  }
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8')
      const hit: Hit = { headers: req.headers, body, json: JSON.parse(body) }
      r.hits.push(hit)
      const answer = r.respond(hit, r.hits.length)
      if (answer === 'hang') {
        hanging.push(res)
        return
      }
      res.writeHead(answer, { 'content-type': 'text/plain' }).end(answer < 300 ? 'ok' : `nope ${answer}`)
    })
  })
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  t.teardown(async () => {
    server.closeAllConnections()
    await new Promise(resolve => server.close(resolve))
  })
  r.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`
  return r
}

/**
 * Checks X-AutoCore-Signature the way a receiver would, written here from the README's description rather than
 * with the gateway's code: `t=<unix s>,v1=<hex HMAC-SHA256(secret, "<t>.<raw body>")>`. Answers the t, or undefined.
 */
export function verifySignature (hit: Hit, secret: string): number | undefined {
  const m = /^t=(\d+),v1=([0-9a-f]{64})$/.exec(String(hit.headers['x-autocore-signature']))
  if (m === null) return undefined
  const expected = createHmac('sha256', secret).update(`${m[1]}.${hit.body}`).digest()
  return timingSafeEqual(expected, Buffer.from(m[2], 'hex')) ? Number(m[1]) : undefined
}

/** Polls an async condition in real time (the HTTP round trips are real); fails after `ms`. */
export async function until (cond: () => Promise<boolean> | boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms
  while (!await cond()) {
    if (Date.now() > end) throw new Error('condition not met in time')
    await new Promise(resolve => setTimeout(resolve, 5))
  }
}
