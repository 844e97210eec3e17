import type { ClassicLevel } from 'classic-level'

/** The part of an Aedes persistence this adds to (feature-detected by the patched aedes, lib/handlers/connect.js). */
interface SessionStore {
  openSession?: (client: { id: string }, clean: boolean) => Promise<boolean>
}

/**
 * [MQTT-3.2.2-2]: a client that reconnects with CleanSession 0 to a session the server holds gets Session Present 1,
 * whether or not that session holds a subscription. Aedes knows a session by its stored subscriptions alone, so a
 * relay board that connected persistent and subscribed to nothing yet (or unsubscribed from everything) was told
 * it had no session. The patched aedes asks the persistence through `openSession(client, clean)`; this records
 * the sessions in the broker's own level store (its own sublevel, beside aedes-persistence-level's keys) so they
 * outlive a restart like the rest of the session state.
 */
/** The sublevel holding one key per persistent session (its client id). */
function sessionsOf (db: ClassicLevel<string, any>) {
  return (db as ClassicLevel<string, string>).sublevel<string, string>('sessions', { valueEncoding: 'utf8' })
}

/** The client ids of every recorded persistent session, with or without subscriptions. */
export async function recordedSessions (db: ClassicLevel<string, any>): Promise<string[]> {
  return await sessionsOf(db).keys().all()
}

/** Forgets a persistent session (session expiry): its next CONNECT gets Session Present 0. */
export async function forgetSession (db: ClassicLevel<string, any>, clientId: string): Promise<void> {
  await sessionsOf(db).del(clientId)
}

export function recordSessions (store: object, db: ClassicLevel<string, string>): void {
  const sessions = sessionsOf(db)
  ;(store as SessionStore).openSession = async (client, clean) => {
    const existed = (await sessions.get(client.id)) !== undefined
    if (clean) {
      // [MQTT-3.1.2-6]: a clean session discards the previous one.
      if (existed) await sessions.del(client.id)
    } else if (!existed) {
      await sessions.put(client.id, '1')
    }
    return existed
  }
}
