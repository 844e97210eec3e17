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
export function recordSessions (store: object, db: ClassicLevel<string, string>): void {
  const sessions = db.sublevel('sessions')
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
