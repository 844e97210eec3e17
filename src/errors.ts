/**
 * The one error registry: each code's HTTP status (when the error reaches an API client) and message. Codes are
 * GW_ERR_<AREA>_<WHAT>, never reused. README's "Error codes" table is checked against it by a test.
 */
const registry = {
  GW_ERR_CONFIG_INVALID: [500, 'The configuration is invalid'],
  GW_ERR_CONFIG_FILE: [500, 'A configuration file cannot be read or parsed'],
  GW_ERR_LISTEN_FAILED: [500, 'A listener could not bind its address'],
  GW_ERR_TLS_MATERIAL: [500, 'The TLS certificate or key cannot be read or made'],
  GW_ERR_DB_UNAVAILABLE: [503, 'The database does not answer'],
  GW_ERR_HTTP_NOT_FOUND: [404, 'No such route'],
  GW_ERR_HTTP_INTERNAL: [500, 'Internal error'],
  GW_ERR_HTTP_BAD_JSON: [400, 'The request body is not valid JSON'],
  GW_ERR_HTTP_METHOD_NOT_ALLOWED: [405, 'The route does not take this method'],
  GW_ERR_HEALTH_FAILED: [503, 'A health check failed'],
  GW_ERR_DATA_DIR_LOCKED: [500, 'The data directory is in use by another gateway process'],
  GW_ERR_BACKUP_FAILED: [500, 'A database backup could not be written'],
  GW_ERR_BACKUP_INVALID: [400, 'The backup file fails its integrity check'],
  GW_ERR_BACKUP_UNSUPPORTED: [400, 'Backup and restore cover SQLite only (PostgreSQL: use pg_dump)'],
  GW_ERR_BACKUP_NOT_FOUND: [404, 'No such backup'],
  GW_ERR_TELEMETRY_BAD_QUERY: [400, 'The telemetry query is invalid'],
  GW_ERR_TELEMETRY_DEVICE_NOT_FOUND: [404, 'No such device'],
  GW_ERR_CAN_DBC_INVALID: [400, 'The DBC file cannot be parsed'],
  GW_ERR_COMMAND_DEVICE_UNKNOWN: [404, 'No such device'],
  GW_ERR_RELAY_NOT_FOUND: [404, 'No such relay channel'],
  GW_ERR_RELAY_DISABLED: [409, 'The relay channel is disabled'],
  GW_ERR_RELAY_BAD_REQUEST: [400, 'The relay request is invalid'],
  GW_ERR_RELAY_MUTEX_FAILED: [409, 'Another channel of the mutex group did not confirm off'],
  GW_ERR_EMERGENCY_ACTIVE: [423, 'An emergency stop is active'],
  GW_ERR_EMERGENCY_FORBIDDEN: [403, 'Not allowed to trigger or reset the emergency stop'],
  GW_ERR_MACRO_NOT_FOUND: [404, 'No such macro'],
  GW_ERR_MACRO_DISABLED: [409, 'The macro is disabled'],
  GW_ERR_MACRO_RUNNING: [409, 'The macro is already running'],
  GW_ERR_CONTROL_FORBIDDEN: [403, 'Not allowed to control relays or run macros'],
  GW_ERR_HTTP_VALIDATION: [400, 'The request does not match its schema'],
  GW_ERR_HTTP_TOO_LARGE: [413, 'The request body is too large'],
  GW_ERR_AUTH_BAD_CREDENTIALS: [401, 'Unknown user or wrong password'],
  GW_ERR_AUTH_THROTTLED: [429, 'Too many failed attempts; try again later'],
  GW_ERR_AUTH_REQUIRED: [401, 'A valid login token is required'],
  GW_ERR_AUTH_FORBIDDEN: [403, 'The user lacks the role this needs'],
  GW_ERR_DEVICE_NOT_FOUND: [404, 'No such device'],
  GW_ERR_DEVICE_EXISTS: [409, 'A device with this UUID already exists'],
  GW_ERR_DEVICE_INVALID_ID: [400, 'Not a valid device id'],
  GW_ERR_USER_NOT_FOUND: [404, 'No such user'],
  GW_ERR_USER_EXISTS: [409, 'A user with this name already exists'],
  GW_ERR_MQTT_PAYLOAD_TOO_LARGE: [413, 'The MQTT payload exceeds mqtt.maxPayloadBytes'],
  GW_ERR_MQTT_PAYLOAD_INVALID: [400, 'The MQTT payload is not valid JSON or does not match its topic schema'],
  GW_ERR_USER_LAST_ADMIN: [409, 'The last enabled admin cannot be deleted, disabled or demoted'],
  GW_ERR_USER_INVALID_NAME: [400, 'Not a valid user name'],
  GW_ERR_USER_WEAK_PASSWORD: [400, 'The password is too short'],
  GW_ERR_COMMAND_NOT_FOUND: [404, 'No such command'],
  GW_ERR_RELAY_EXISTS: [409, 'The device already has a relay channel with this number'],
  GW_ERR_MACRO_EXISTS: [409, 'A macro with this name already exists'],
  GW_ERR_MACRO_NOT_RUNNING: [409, 'The macro has no running run to cancel'],
  GW_ERR_SCREEN_NOT_FOUND: [404, 'No such screen'],
  GW_ERR_SCREEN_ITEM_NOT_FOUND: [404, 'No such screen item'],
  GW_ERR_SCREEN_ITEM_UNBOUND: [409, 'The screen item has no relay channel to activate'],
  GW_ERR_CAN_SIGNAL_NOT_FOUND: [404, 'No such CAN signal'],
  GW_ERR_CAN_SIGNAL_EXISTS: [409, 'A CAN signal with this CAN id, name and device already exists'],
  GW_ERR_DEVICE_CONFIG_CONFLICT: [409, 'The device config is no longer at the expected version'],
  GW_ERR_DEVICE_CONFIG_TOO_LARGE: [413, 'The device config message would exceed mqtt.maxPayloadBytes'],
  GW_ERR_THEME_NOT_FOUND: [404, 'No such theme'],
  GW_ERR_THEME_EXISTS: [409, 'A theme with this name already exists'],
  GW_ERR_THEME_ACTIVE: [409, 'The active theme cannot be deleted'],
  GW_ERR_WEBHOOK_NOT_FOUND: [404, 'No such webhook'],
  GW_ERR_WEBHOOK_DISABLED: [409, 'The webhook is disabled'],
  GW_ERR_WEBHOOK_DELIVERY_NOT_FOUND: [404, 'No such webhook delivery'],
  GW_ERR_WEBHOOK_DELIVERY_NOT_FAILED: [409, 'Only a failed delivery can be retried']
} as const satisfies Record<string, readonly [status: number, message: string]>

export type ErrorCode = keyof typeof registry

export const errorRegistry = Object.fromEntries(
  Object.entries(registry).map(([code, [status, message]]) => [code, { status, message }])
) as Record<ErrorCode, { status: number, message: string }>

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
