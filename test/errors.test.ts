import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import t from 'tap'
import { errorRegistry, GatewayError } from '../src/errors.js'
import { packageRoot } from '../src/paths.js'

t.test("src/README.md's error table lists exactly the registry, with the same statuses", async t => {
  const readme = readFileSync(join(packageRoot, 'src', 'README.md'), 'utf8')
  const rows = [...readme.matchAll(/^\| `(GW_ERR_[A-Z_]+)` \| (\d{3}) \|/gm)].map(m => [m[1], Number(m[2])])
  t.same(
    Object.fromEntries(rows),
    Object.fromEntries(Object.entries(errorRegistry).map(([code, e]) => [code, e.status]))
  )
})

t.test('codes follow GW_ERR_<AREA>_<WHAT> and GatewayError carries status and details', async t => {
  for (const code of Object.keys(errorRegistry)) t.match(code, /^GW_ERR_[A-Z]+_[A-Z_]+$/)
  const err = new GatewayError('GW_ERR_HTTP_NOT_FOUND', 'nothing here', { path: '/x' })
  t.equal(err.status, 404)
  t.same(err.details, { path: '/x' })
  t.equal(new GatewayError('GW_ERR_HTTP_INTERNAL').message, 'Internal error')
})
