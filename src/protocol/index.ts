/**
 * The MQTT contract (SPEC §3): topic families, the topic API, payload types, the filter matcher. Imports nothing
 * from the rest of src (broker, auth, gateway, services and the browser panel all import it) and nothing of node:.
 * Payload validation (ajv) is protocol/validate.ts, imported apart so the panel's bundle does not carry it.
 */
export {
  families, subtrees, PREFIX, type TopicFamily, type FamilyDef, type Publisher, type Reader
} from './families.js'
export {
  topicOf, familyTopic, parseTopic, DEVICE_ID, gatewayOnlyFilters, type ParsedTopic, type TopicParams
} from './topics.js'
export { covers, intersects } from './match.js'
export type * from './payloads.js'
