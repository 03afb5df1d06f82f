// The doctor's answer, as GET /trireme/v1/cluster/doctor serves it: gather (gather.ts), then
// judge (findings.ts). Guarantees: `findings` is the pure judgement of the observation returned
// alongside, at the time given. Does not: cache (each request looks at the cluster afresh).
import type { Clock } from '../../util/clock.js';
import { kubeTime } from '../../api/time.js';
import { findings, type Finding } from './findings.js';
import { gatherObservation, type GatherDeps } from './gather.js';
import type { Observation } from './observation.js';

export interface DoctorReport {
  apiVersion: 'trireme/v1';
  kind: 'DoctorReport';
  /** When the cluster was looked at (RFC 3339). */
  time: string;
  findings: Finding[];
  observation: Observation;
}

export async function doctorReport(d: GatherDeps & { clock: Clock }): Promise<DoctorReport> {
  const observation = await gatherObservation(d);
  const now = d.clock.now();
  return { apiVersion: 'trireme/v1', kind: 'DoctorReport', time: kubeTime(now), findings: findings(observation, now), observation };
}
