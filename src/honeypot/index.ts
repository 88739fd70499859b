/**
 * The honeypot area's public surface: start the camera honeypot, read its report, and the
 * summary the bulletin and exposure areas use. Other areas import only this file.
 */

export { eventsPerHour, eventTail, sourceTable, type TailEvent } from './console.js';
export { SOURCE_CLASSES, type SourceClass, SourceClassifier } from './core/classify.js';
export {
  AUTH_MODES,
  type AuthMode,
  isBotnetDefault,
  MIRAI_DEFAULTS,
} from './core/credentials.js';
export { EVENT_IDS, type EventId, type HoneypotEvent } from './core/events.js';
export {
  MAX_BATCH_EVENTS,
  parseBatch,
  SENSOR_NAME,
  type SensorBatch,
  type SensorEvent,
} from './core/ingest.js';
export {
  CSV_TABLES,
  type CsvTable,
  type HoneypotReport,
  type ReportExtras,
  reportCsv,
} from './core/report.js';
export { eventsPerHourBySource } from './hourly-class.js';
export { type EventSink, nullSink, Recorder } from './recorder.js';
export {
  centreUrl,
  INGEST_PATH,
  type ReporterStatus,
  readCa,
  readSensorToken,
  SensorQueue,
  SensorReporter,
} from './sensor.js';
export {
  addSensor,
  authenticateSensor,
  type IngestResult,
  ingestBatch,
  listSensors,
  openRuns,
  revokeSensor,
  type SensorAuth,
  type SensorRow,
} from './sensors.js';
export {
  DEFAULT_PORTS,
  type HoneypotPorts,
  type RunningHoneypot,
  type StartOptions,
  startHoneypot,
} from './start.js';
export {
  type HoneypotSummary,
  honeypotReport,
  honeypotSummary,
  parseSince,
  type ReportQuery,
} from './store.js';
