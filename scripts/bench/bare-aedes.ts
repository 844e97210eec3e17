// A bare Aedes broker (memory persistence, no hooks) for the access benchmark's baseline: prints its port.
import net from 'node:net'
import { Aedes } from 'aedes'

const broker = await Aedes.createBroker()
const server = net.createServer({ noDelay: true }, socket => broker.handle(socket))
server.listen(0, '127.0.0.1', () => {
  process.stdout.write(JSON.stringify({ msg: 'bare aedes started', mqttPort: (server.address() as net.AddressInfo).port }) + '\n')
})
process.on('SIGTERM', () => { server.close(); broker.close(() => process.exit(0)) })
