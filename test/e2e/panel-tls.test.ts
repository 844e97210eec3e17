import { readdirSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import t from 'tap'

// Every panel e2e file runs over HTTPS/WSS too (#17): each has its twin in panel-tls/ (tls.test.ts is TLS already).
const here = dirname(fileURLToPath(import.meta.url))
const files = (dir: string): string[] => readdirSync(join(here, dir)).filter(f => f.endsWith('.test.ts')).sort()

t.same(files('panel-tls'), files('panel').filter(f => f !== 'tls.test.ts'), 'each panel e2e file has its TLS twin')
