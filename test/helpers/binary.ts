import { execFileSync } from 'node:child_process'
import { createHash } from 'node:crypto'
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { packageRoot } from '../../src/paths.js'

function files (dir: string): string[] {
  return readdirSync(dir).sort()
    .flatMap(n => statSync(join(dir, n)).isDirectory() ? files(join(dir, n)) : [join(dir, n)])
}

/**
 * The linux-x64 single executable of this build (npm test has built dist/), made by scripts/build-binary.ts once
 * per content of dist/ and shared by the test files that need it (a build takes 20-40 s): under
 * node_modules/.cache/autocore-binary/test-<hash of dist>. Two files building at once both write a whole file.
 */
export function x64Binary (): string {
  const hash = createHash('sha256')
  for (const d of ['src', 'entities', 'scripts', 'panel']) {
    for (const f of files(join(packageRoot, 'dist', d))) hash.update(f).update(readFileSync(f))
  }
  const dir = join(packageRoot, 'node_modules', '.cache', 'autocore-binary', `test-${hash.digest('hex').slice(0, 16)}`)
  const exe = join(dir, 'autocore-gateway-linux-x64')
  if (!existsSync(exe)) {
    execFileSync(process.execPath, [join(packageRoot, 'dist', 'scripts', 'build-binary.js'), '--target', 'linux-x64',
      '--out', dir], { stdio: ['ignore', 'ignore', 'inherit'] })
  }
  return exe
}
