import { randomBytes, scrypt, timingSafeEqual } from 'node:crypto'

// scrypt N=2^14, r=8, p=1 (the Node default cost): ~30-60 ms on a Raspberry Pi 4 core. It runs on the libuv
// pool (async), so a burst of logins does not block the event loop; the failure limiter keeps bursts short.
const N = 16384
const R = 8
const P = 1
const KEYLEN = 32

function derive (secret: string, salt: Buffer, n: number, r: number, p: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    scrypt(secret, salt, KEYLEN, { N: n, r, p, maxmem: 128 * n * r * 2 }, (err, key) =>
      err !== null ? reject(err) : resolve(key)
    )
  })
}

/** A self-describing slow hash: `scrypt$N$r$p$salt$key` (base64url). */
export async function hashSecret (secret: string): Promise<string> {
  const salt = randomBytes(16)
  const key = await derive(secret, salt, N, R, P)
  return ['scrypt', N, R, P, salt.toString('base64url'), key.toString('base64url')].join('$')
}

/** Constant-time check of a secret against a stored hash; false for a malformed hash. */
export async function verifySecret (secret: string, stored: string): Promise<boolean> {
  const parts = stored.split('$')
  if (parts.length !== 6 || parts[0] !== 'scrypt') return false
  const [n, r, p] = parts.slice(1, 4).map(Number)
  const want = Buffer.from(parts[5], 'base64url')
  const got = await derive(secret, Buffer.from(parts[4], 'base64url'), n, r, p)
  return got.length === want.length && timingSafeEqual(got, want)
}

/** A random secret for a device or the initial admin: 24 bytes, base64url (32 characters). */
export function randomSecret (): string {
  return randomBytes(24).toString('base64url')
}
