// Preloaded by bin/autocore-gateway: the bundled better-sqlite3 is compiled for one Node.js ABI and platform.
// A mismatch would otherwise surface as a cryptic dlopen error when the database opens.
import { readFileSync } from 'node:fs'

const release = JSON.parse(readFileSync(new URL('../RELEASE.json', import.meta.url), 'utf8'))
const here = { abi: process.versions.modules, platform: `${process.platform}-${process.arch}` }
if (release.abi !== here.abi || release.platform !== here.platform) {
  process.stderr.write(
    `autocore-gateway: this bundle was built for Node.js ${release.node} (ABI ${release.abi}) ` +
    `on ${release.platform}; ` +
    `this is Node.js ${process.version} (ABI ${here.abi}) on ${here.platform}. ` +
    `Install Node.js ${release.node.split('.')[0]}.x, or build the bundle on this machine (npm run release).\n`
  )
  process.exit(1)
}
