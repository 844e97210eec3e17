import { readdirSync, readFileSync, statSync } from 'node:fs'
import { dirname, join, normalize, relative } from 'node:path'
import t from 'tap'
import { packageRoot } from '../src/paths.js'

// The layer order of src/README.md ("Layers"), enforced (#15): a module imports only from its own layer or the ones
// below it, and no runtime import cycle exists anywhere in src/ (type-only imports do not run, so they may point
// anywhere a type lives but they still may not go up a layer).

const src = join(packageRoot, 'src')

/** `src/README.md`'s layer table: rank (1 = bottom) and the folders/files of each layer. */
function layersFromReadme (): Map<string, { rank: number, layer: string }> {
  const text = readFileSync(join(src, 'README.md'), 'utf8')
  const section = text.split('\n## Layers')[1]?.split('\n## ')[0] ?? ''
  const out = new Map<string, { rank: number, layer: string }>()
  for (const line of section.split('\n')) {
    const m = /^\| (\d+) \| ([^|]+) \| ([^|]+) \|/.exec(line)
    if (m === null) continue
    for (const part of m[3].matchAll(/`([^`]+)`/g)) {
      out.set(part[1].replace(/\/$/, ''), { rank: Number(m[1]), layer: m[2].trim() })
    }
  }
  return out
}

function files (dir: string): string[] {
  return readdirSync(dir).flatMap(name => {
    const p = join(dir, name)
    if (statSync(p).isDirectory()) return files(p)
    return /\.tsx?$/.test(name) && !name.endsWith('.d.ts') ? [p] : []
  })
}

interface Edge { from: string, to: string, typeOnly: boolean }

function imports (file: string): Edge[] {
  const text = readFileSync(file, 'utf8')
  const out: Edge[] = []
  const re = /(?:^|\n)\s*(import|export)\s+(type\s+)?(?:[^'"]*?\s+from\s+)?'(\.[^']+)'|import\(\s*'(\.[^']+)'\s*\)/g
  for (const m of text.matchAll(re)) {
    const spec = m[3] ?? m[4]
    const target = normalize(join(dirname(file), spec)).replace(/\.js$/, '')
    const resolved = [target + '.ts', target + '.tsx', join(target, 'index.ts')].find(p => {
      try { return statSync(p).isFile() } catch { return false }
    })
    if (resolved !== undefined) out.push({ from: file, to: resolved, typeOnly: m[2] !== undefined })
  }
  return out
}

const layers = layersFromReadme()
const all = files(src)

/** The table entry a source file belongs to: its own path, else its folder under src/. */
function layerOf (file: string): { rank: number, layer: string, key: string } | undefined {
  const rel = relative(src, file)
  for (const key of [rel.replace(/\.tsx?$/, '.ts'), rel.split('/').slice(0, 2).join('/'), rel.split('/')[0]]) {
    const l = layers.get(key)
    if (l !== undefined) return { ...l, key }
  }
  return undefined
}

t.ok(layers.size > 0, 'src/README.md has a Layers table')

t.test('every module of src/ has a layer in src/README.md', async t => {
  t.same(all.filter(f => layerOf(f) === undefined).map(f => relative(src, f)), [])
})

t.test('no import goes up a layer', async t => {
  const up: string[] = []
  for (const file of all) {
    for (const e of imports(file)) {
      if (!e.to.startsWith(src)) continue
      const a = layerOf(e.from)
      const b = layerOf(e.to)
      if (a === undefined || b === undefined) continue
      if (b.rank > a.rank) up.push(`${relative(src, e.from)} (${a.layer}) → ${relative(src, e.to)} (${b.layer})`)
    }
  }
  t.same(up, [], 'imports from a higher layer')
})

t.test('no runtime import cycle in src/', async t => {
  const graph = new Map<string, string[]>()
  for (const file of all) graph.set(file, imports(file).filter(e => !e.typeOnly && e.to.startsWith(src)).map(e => e.to))
  // Tarjan's strongly connected components: a component of more than one module is a cycle.
  let index = 0
  const idx = new Map<string, number>()
  const low = new Map<string, number>()
  const stack: string[] = []
  const onStack = new Set<string>()
  const cycles: string[][] = []
  const visit = (v: string): void => {
    idx.set(v, index); low.set(v, index); index++
    stack.push(v); onStack.add(v)
    for (const w of graph.get(v) ?? []) {
      if (!idx.has(w)) {
        visit(w)
        low.set(v, Math.min(low.get(v) ?? 0, low.get(w) ?? 0))
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v) ?? 0, idx.get(w) ?? 0))
    }
    if (low.get(v) === idx.get(v)) {
      const scc: string[] = []
      let w: string
      do { w = stack.pop() as string; onStack.delete(w); scc.push(relative(src, w)) } while (w !== v)
      if (scc.length > 1 || (graph.get(v) ?? []).includes(v)) cycles.push(scc.sort())
    }
  }
  for (const v of graph.keys()) if (!idx.has(v)) visit(v)
  t.same(cycles, [], 'import cycles')
})
