// Leader churn from samples of a Lease (pure): each sample is what a GET of the Lease showed at
// a time; a transition is a change of holderIdentity or of leaseTransitions between two
// consecutive samples (the first sample is the baseline, not a transition). The lease age of a
// sample is how long ago, by the sample's clock, the holder last renewed (sampler and server
// share this machine's clock): its maximum says how close the leader came to losing the Lease.
// Does not: see a change that happened and was undone between two samples (leaseTransitions
// still counts it, since it only grows).

export interface LeaseSample {
  at: number;
  holder: string;
  transitions: number;
  /** renewTime in ms since the epoch, if the Lease has one. */
  renewedAt: number | undefined;
}

export interface LeaseChange {
  at: number;
  from: string;
  to: string;
  transitionsFrom: number;
  transitionsTo: number;
}

export interface ChurnSummary {
  samples: number;
  changes: LeaseChange[];
  /** leaseTransitions(last) − leaseTransitions(first): takeovers the Lease itself counted. */
  leaseTransitionsDelta: number;
  maxLeaseAgeMs: number;
  holders: string[];
}

export function summarizeChurn(samples: readonly LeaseSample[]): ChurnSummary {
  const changes: LeaseChange[] = [];
  let maxAge = 0;
  const holders = new Set<string>();
  for (let i = 0; i < samples.length; i++) {
    const s = samples[i]!;
    holders.add(s.holder);
    if (s.renewedAt !== undefined) maxAge = Math.max(maxAge, s.at - s.renewedAt);
    const prev = samples[i - 1];
    if (prev && (prev.holder !== s.holder || prev.transitions !== s.transitions)) {
      changes.push({ at: s.at, from: prev.holder, to: s.holder, transitionsFrom: prev.transitions, transitionsTo: s.transitions });
    }
  }
  const first = samples[0];
  const last = samples[samples.length - 1];
  return {
    samples: samples.length,
    changes,
    leaseTransitionsDelta: first && last ? last.transitions - first.transitions : 0,
    maxLeaseAgeMs: Math.max(0, Math.round(maxAge)),
    holders: [...holders],
  };
}
