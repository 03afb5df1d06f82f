// Kubernetes `Status` bodies the kubelet API returns, built here because the agent may not
// import the API server. Guarantees: the shapes kubectl parses (status, message, reason, code,
// details.causes) — in particular the exec exit-code Status that becomes kubectl's exit code.

export interface StatusCause {
  reason: string;
  message: string;
}

export interface Status {
  kind?: 'Status';
  apiVersion?: 'v1';
  metadata: Record<string, never>;
  status: 'Success' | 'Failure';
  message?: string;
  reason?: string;
  code?: number;
  details?: { causes: StatusCause[] };
}

export function failure(code: number, reason: string, message: string): Status {
  return { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason, code };
}

/** The Status sent on the exec error channel when the command ended. */
export function exitStatus(command: string[], exitCode: number): Status {
  if (exitCode === 0) return { metadata: {}, status: 'Success' };
  return {
    metadata: {},
    status: 'Failure',
    message: `command terminated with non-zero exit code: error executing command [${command.join(' ')}], exit code ${exitCode}`,
    reason: 'NonZeroExitCode',
    details: { causes: [{ reason: 'ExitCode', message: String(exitCode) }] },
  };
}
