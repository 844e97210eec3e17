import { runCli } from '../cli/index.js'

/** The CLI on this process's argv, streams and signals; resolves with the exit code (src/main.ts exits with it). */
export async function run (): Promise<number> {
  return await runCli(process.argv, {
    env: process.env,
    out: line => process.stdout.write(line + '\n'),
    err: line => process.stderr.write(line + '\n'),
    readStdin: async () => {
      const chunks: Buffer[] = []
      for await (const chunk of process.stdin) chunks.push(chunk as Buffer)
      return Buffer.concat(chunks).toString('utf8')
    }
  }, process)
}
