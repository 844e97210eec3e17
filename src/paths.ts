import { existsSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { embeddedRoot } from './runtime/embedded.js'

// The same code runs from src/ (tests, through ts-node) and from dist/src/ (production), so the
// package root is found by walking up to package.json rather than by a fixed relative path.
function findPackageRoot (): string {
  let dir = dirname(fileURLToPath(import.meta.url))
  while (!existsSync(join(dir, 'package.json'))) {
    const parent = dirname(dir)
    if (parent === dir) throw new Error('package.json not found above ' + fileURLToPath(import.meta.url))
    dir = parent
  }
  return dir
}

// In the single executable, the package root is the directory its embedded files were extracted to.
export const packageRoot = embeddedRoot() ?? findPackageRoot()
export const defaultConfigFile = join(packageRoot, 'config', 'default.json')
