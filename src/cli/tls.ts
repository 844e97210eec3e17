import { writeFileSync } from 'node:fs'
import { clientCaPem } from '../tls/material.js'
import { configFor, EXIT, type CommandSetup } from './io.js'

/** `autocore-gateway tls export-ca`: the CA certificate clients pin (made now if the gateway never started). */
export function registerTlsCommands ({ program, io, configOption, setCode }: CommandSetup): void {
  const tls = program.command('tls').description('TLS: the gateway CA and certificates')
  tls.command('export-ca')
    .description('print the CA certificate (PEM) that devices, mqtt clients, browsers and `health` verify the ' +
      'gateway against')
    .option('-o, --out <file>', 'write it to this file instead of stdout')
    .option(...configOption)
    .action(async (opts: { config?: string, out?: string }) => {
      const config = configFor(io, opts.config)
      const pem = await clientCaPem(config, Date.now())
      if (opts.out === undefined) io.out(pem.trimEnd())
      else writeFileSync(opts.out, pem)
      setCode(EXIT.ok)
    })
}
