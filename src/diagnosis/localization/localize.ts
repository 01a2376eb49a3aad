import type { RankedCause } from '../model.js';
import type { SignalSnapshot } from '../signals/snapshot.js';
import { buildContext, type CandidateGenerator } from './context.js';
import { rank } from './ranker.js';
import { GENERATORS } from './registry.js';

// Localization: every generator proposes causes of its kind from the snapshot; the ranker merges
// and orders them. Reads only the SignalSnapshot, so any platform (or recorded data) that can
// build one gets the same answers.

export interface LocalizeOptions {
  generators?: readonly CandidateGenerator[];
  /** How many causes to keep (default 10). */
  limit?: number;
}

export function localize(snapshot: SignalSnapshot, opts: LocalizeOptions = {}): RankedCause[] {
  const ctx = buildContext(snapshot);
  const proposals = (opts.generators ?? GENERATORS).flatMap((g) => g.propose(ctx));
  return rank(ctx, proposals, opts.limit);
}
