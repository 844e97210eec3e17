import { existsSync, readFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import t from 'tap'
import { readmeWithTable } from '../scripts/docs.js'
import { packageRoot } from '../src/paths.js'

const read = (file: string): string => readFileSync(join(packageRoot, file), 'utf8')
const PAGES = ['README.md', 'config/README.md', 'src/README.md', 'systemd/README.md', 'scripts/README.md']

t.test("config/README.md's configuration table is the schema's (run `npm run docs` after changing the " +
  'schema)', async t => {
  const page = read('config/README.md')
  t.equal(page, readmeWithTable(page))
})

t.test('README gives the two commands, reads in five minutes and links to the reference', async t => {
  const readme = read('README.md')
  t.match(readme, 'npm ci && npm start')
  t.match(readme, 'npm ci && npm test')
  t.ok(readme.split('\n').length <= 250, `at most 250 lines (${readme.split('\n').length})`)
  for (const page of PAGES.slice(1)) t.match(readme, `](${page})`, `links to ${page}`)
  t.match(readme, /!\[[^\]]+\]\(docs\/[\w-]+\.png\)/, 'shows the panel')
})

t.test('every relative link of the README pages resolves inside the repository', async t => {
  for (const page of PAGES) {
    const text = read(page)
    t.notMatch(text, /\.\.\/shared\//, `${page} names no path outside the repository`)
    for (const [, target] of text.matchAll(/\]\(((?!https?:|#|mailto:)[^)#\s]+)(#[^)]*)?\)/g)) {
      t.ok(existsSync(join(packageRoot, dirname(page), target)), `${page} → ${target}`)
    }
  }
})
