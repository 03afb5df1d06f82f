// Container logs: the CRI-format writer the shim uses and the reader behind `kubectl logs`.
//
//   new ContainerLogWriter(logDir, { maxBytes?, maxLineBytes?, clock? }).write(stream, chunk) / .close()
//   rotateForNewInstance(logDir)        — before starting a new instance of a container
//   readLogs({ logDir, isRunning, clock?, pollMs? }, LogReadOptions): Readable
//   logsMissing(logDir, previous): Promise<boolean>
export { ContainerLogWriter, rotateForNewInstance, DEFAULT_MAX_LOG_BYTES, DEFAULT_MAX_LINE_BYTES, type ContainerLogWriterOptions } from './writer.js';
export { readLogs, logsMissing, formatOutput, type LogReadOptions, type LogSource } from './reader.js';
export {
  CURRENT_LOG, ROTATED_LOG, PREVIOUS_LOG, formatRecord, formatTimestamp, goRfc3339Nano, parseRecord, parseTimestamp,
  type CriRecord, type LogStream, type LogTag,
} from './cri.js';
