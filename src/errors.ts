/**
 * The one error registry. Codes are GW_ERR_<AREA>_<WHAT>, never reused; `status` is the HTTP status when the
 * error reaches an API client. README's "Error codes" table is checked against this object by a test.
 */
export const errorRegistry = {
  GW_ERR_CONFIG_INVALID: { status: 500, message: 'The configuration is invalid' },
  GW_ERR_CONFIG_FILE: { status: 500, message: 'A configuration file cannot be read or parsed' },
  GW_ERR_LISTEN_FAILED: { status: 500, message: 'A listener could not bind its address' },
  GW_ERR_TLS_MATERIAL: { status: 500, message: 'The TLS certificate or key cannot be read or made' },
  GW_ERR_DB_UNAVAILABLE: { status: 503, message: 'The database does not answer' },
  GW_ERR_HTTP_NOT_FOUND: { status: 404, message: 'No such route' },
  GW_ERR_HTTP_INTERNAL: { status: 500, message: 'Internal error' },
  GW_ERR_HTTP_BAD_JSON: { status: 400, message: 'The request body is not valid JSON' },
  GW_ERR_HTTP_METHOD_NOT_ALLOWED: { status: 405, message: 'The route does not take this method' },
  GW_ERR_HEALTH_FAILED: { status: 503, message: 'A health check failed' },
  GW_ERR_DATA_DIR_LOCKED: { status: 500, message: 'The data directory is in use by another gateway process' },
  GW_ERR_BACKUP_FAILED: { status: 500, message: 'A database backup could not be written' },
  GW_ERR_BACKUP_INVALID: { status: 400, message: 'The backup file fails its integrity check' },
  GW_ERR_BACKUP_UNSUPPORTED: { status: 400, message: 'Backup and restore cover SQLite only (PostgreSQL: use pg_dump)' },
  GW_ERR_BACKUP_NOT_FOUND: { status: 404, message: 'No such backup' },
  GW_ERR_TELEMETRY_BAD_QUERY: { status: 400, message: 'The telemetry query is invalid' },
  GW_ERR_TELEMETRY_DEVICE_NOT_FOUND: { status: 404, message: 'No such device' },
  GW_ERR_CAN_DBC_INVALID: { status: 400, message: 'The DBC file cannot be parsed' },
  GW_ERR_COMMAND_DEVICE_UNKNOWN: { status: 404, message: 'No such device' },
  GW_ERR_RELAY_NOT_FOUND: { status: 404, message: 'No such relay channel' },
  GW_ERR_RELAY_DISABLED: { status: 409, message: 'The relay channel is disabled' },
  GW_ERR_RELAY_BAD_REQUEST: { status: 400, message: 'The relay request is invalid' },
  GW_ERR_RELAY_MUTEX_FAILED: { status: 409, message: 'Another channel of the mutex group did not confirm off' },
  GW_ERR_EMERGENCY_ACTIVE: { status: 423, message: 'An emergency stop is active' },
  GW_ERR_EMERGENCY_FORBIDDEN: { status: 403, message: 'Not allowed to trigger or reset the emergency stop' },
  GW_ERR_MACRO_NOT_FOUND: { status: 404, message: 'No such macro' },
  GW_ERR_MACRO_DISABLED: { status: 409, message: 'The macro is disabled' },
  GW_ERR_MACRO_RUNNING: { status: 409, message: 'The macro is already running' },
  GW_ERR_CONTROL_FORBIDDEN: { status: 403, message: 'Not allowed to control relays or run macros' },
  GW_ERR_HTTP_VALIDATION: { status: 400, message: 'The request does not match its schema' },
  GW_ERR_HTTP_TOO_LARGE: { status: 413, message: 'The request body is too large' },
  GW_ERR_AUTH_BAD_CREDENTIALS: { status: 401, message: 'Unknown user or wrong password' },
  GW_ERR_AUTH_THROTTLED: { status: 429, message: 'Too many failed attempts; try again later' },
  GW_ERR_AUTH_REQUIRED: { status: 401, message: 'A valid login token is required' },
  GW_ERR_AUTH_FORBIDDEN: { status: 403, message: 'The user lacks the role this needs' },
  GW_ERR_DEVICE_NOT_FOUND: { status: 404, message: 'No such device' },
  GW_ERR_DEVICE_EXISTS: { status: 409, message: 'A device with this UUID already exists' },
  GW_ERR_DEVICE_INVALID_ID: { status: 400, message: 'Not a valid device id' },
  GW_ERR_USER_NOT_FOUND: { status: 404, message: 'No such user' },
  GW_ERR_USER_EXISTS: { status: 409, message: 'A user with this name already exists' },
  GW_ERR_MQTT_PAYLOAD_TOO_LARGE: { status: 413, message: 'The MQTT payload exceeds mqtt.maxPayloadBytes' },
  GW_ERR_MQTT_PAYLOAD_INVALID: {
    status: 400,
    message: 'The MQTT payload is not valid JSON or does not match its topic schema'
  },
  GW_ERR_USER_LAST_ADMIN: { status: 409, message: 'The last enabled admin cannot be deleted, disabled or demoted' },
  GW_ERR_USER_INVALID_NAME: { status: 400, message: 'Not a valid user name' },
  GW_ERR_USER_WEAK_PASSWORD: { status: 400, message: 'The password is too short' },
  GW_ERR_COMMAND_NOT_FOUND: { status: 404, message: 'No such command' },
  GW_ERR_RELAY_EXISTS: { status: 409, message: 'The device already has a relay channel with this number' },
  GW_ERR_MACRO_EXISTS: { status: 409, message: 'A macro with this name already exists' },
  GW_ERR_MACRO_NOT_RUNNING: { status: 409, message: 'The macro has no running run to cancel' },
  GW_ERR_SCREEN_NOT_FOUND: { status: 404, message: 'No such screen' },
  GW_ERR_SCREEN_ITEM_NOT_FOUND: { status: 404, message: 'No such screen item' },
  GW_ERR_SCREEN_ITEM_UNBOUND: { status: 409, message: 'The screen item has no relay channel to activate' },
  GW_ERR_CAN_SIGNAL_NOT_FOUND: { status: 404, message: 'No such CAN signal' },
  GW_ERR_CAN_SIGNAL_EXISTS: { status: 409, message: 'A CAN signal with this CAN id, name and device already exists' },
  GW_ERR_DEVICE_CONFIG_CONFLICT: { status: 409, message: 'The device config is no longer at the expected version' },
  GW_ERR_DEVICE_CONFIG_TOO_LARGE: {
    status: 413,
    message: 'The device config message would exceed mqtt.maxPayloadBytes'
  },
  GW_ERR_THEME_NOT_FOUND: { status: 404, message: 'No such theme' },
  GW_ERR_THEME_EXISTS: { status: 409, message: 'A theme with this name already exists' },
  GW_ERR_THEME_ACTIVE: { status: 409, message: 'The active theme cannot be deleted' },
  GW_ERR_WEBHOOK_NOT_FOUND: { status: 404, message: 'No such webhook' },
  GW_ERR_WEBHOOK_DISABLED: { status: 409, message: 'The webhook is disabled' },
  GW_ERR_WEBHOOK_DELIVERY_NOT_FOUND: { status: 404, message: 'No such webhook delivery' },
  GW_ERR_WEBHOOK_DELIVERY_NOT_FAILED: { status: 409, message: 'Only a failed delivery can be retried' }
} as const satisfies Record<string, { status: number, message: string }>

export type ErrorCode = keyof typeof errorRegistry

export class GatewayError extends Error {
  readonly code: ErrorCode
  readonly status: number
  readonly details?: unknown

  constructor (code: ErrorCode, message?: string, details?: unknown) {
    super(message ?? errorRegistry[code].message)
    this.name = 'GatewayError'
    this.code = code
    this.status = errorRegistry[code].status
    this.details = details
  }
}

export function isGatewayError (err: unknown): err is GatewayError {
  return err instanceof GatewayError
}
