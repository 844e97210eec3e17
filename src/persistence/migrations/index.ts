import { InitialSchema1732300000000 } from './1732300000000-initial-schema.js'
import { DeviceTombstones1732400000100 } from './1732400000100-device-tombstones.js'

/** Every migration, oldest first; the DataSource runs them in this order. */
export const migrations = [InitialSchema1732300000000, DeviceTombstones1732400000100]
