// The kubelet API server (logs, exec, healthz) for the node agent.
//
//   startKubeletServer({ host, port, servingCertPem, servingKeyPem, caPem, lookup, logger, clock?, logPollMs? })
//     : Promise<{ port: number; stop(): Promise<void> }>
export { startKubeletServer, type KubeletServer, type KubeletServerOptions } from './server.js';
export { exitStatus, failure, type Status } from './status.js';
export { SUPPORTED_PROTOCOLS, V4, V5, STDIN, STDOUT, STDERR, ERROR, RESIZE, CLOSE, frame, decodeClientMessage, pickProtocol } from './channel.js';
export { parseContainerPath, parseExecQuery, parseLogQuery, type ContainerRef, type ExecRequest } from './routes.js';
