import { InitialSchema1732300000000 } from './1732300000000-initial-schema.js'
import { WebhookMinLevel1732400000000 } from './1732400000000-webhook-min-level.js'
import { DeviceTombstones1732400000100 } from './1732400000100-device-tombstones.js'
import { UserTokenVersion1732500000000 } from './1732500000000-user-token-version.js'
import { RelayFailSafe1732500000100 } from './1732500000100-relay-fail-safe.js'
import { TelemetryChunks1732500000200 } from './1732500000200-telemetry-chunks.js'
import { ControlJournal1732600000000 } from './1732600000000-control-journal.js'
import { TelemetryAggregateChunks1732700000000 } from './1732700000000-telemetry-aggregate-chunks.js'
import { DeviceCertSerial1732700000500 } from './1732700000500-device-cert-serial.js'

/** Every migration, oldest first; the DataSource runs them in this order. */
export const migrations = [
  InitialSchema1732300000000,
  WebhookMinLevel1732400000000,
  DeviceTombstones1732400000100,
  UserTokenVersion1732500000000,
  RelayFailSafe1732500000100,
  TelemetryChunks1732500000200,
  ControlJournal1732600000000,
  TelemetryAggregateChunks1732700000000,
  DeviceCertSerial1732700000500
]
