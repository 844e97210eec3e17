// Regenerates config/README.md's configuration table from src/config/schema.json (`npm run docs`);
// test/readme.test.ts fails when that page and the schema disagree.
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { envKeys } from '../src/config/loader.js'
import schema from '../src/config/schema.json' with { type: 'json' }
import { packageRoot } from '../src/paths.js'

const START = '<!-- config-table:start -->'
const END = '<!-- config-table:end -->'

interface Node { properties?: Record<string, Node>, default?: unknown, description?: string }

export function configTable (): string {
  const rows = envKeys().map(k => {
    const node = k.path.reduce<Node>((n, p) => (n.properties as Record<string, Node>)[p], schema as Node)
    const description = (node.description ?? '').replace(/\|/g, '\\|')
    return `| \`${k.path.join('.')}\` | \`${k.env}\` | \`${JSON.stringify(node.default)}\` | ${description} |`
  })
  return ['| key | environment | default | meaning |', '|---|---|---|---|', ...rows].join('\n')
}

export function readmeWithTable (readme: string): string {
  const a = readme.indexOf(START)
  const b = readme.indexOf(END)
  if (a < 0 || b < a) throw new Error(`config/README.md lacks the ${START} … ${END} markers`)
  return readme.slice(0, a + START.length) + '\n' + configTable() + '\n' + readme.slice(b)
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const file = join(packageRoot, 'config', 'README.md')
  writeFileSync(file, readmeWithTable(readFileSync(file, 'utf8')))
}
