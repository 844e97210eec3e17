import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import t from 'tap'
import { readmeWithTable } from '../scripts/docs.js'
import { packageRoot } from '../src/paths.js'

t.test("README's configuration table is the schema's (run `npm run docs` after changing the schema)", async t => {
  const readme = readFileSync(join(packageRoot, 'README.md'), 'utf8')
  t.equal(readme, readmeWithTable(readme))
})

t.test('README gives the two commands', async t => {
  const readme = readFileSync(join(packageRoot, 'README.md'), 'utf8')
  t.match(readme, 'npm ci && npm start')
  t.match(readme, 'npm ci && npm test')
})
