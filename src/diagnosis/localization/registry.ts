// Every candidate generator, one per cause kind. Adding a kind is one file under generators/
// plus one line here.
import type { CandidateGenerator } from './context.js';
import { configChangeGenerator } from './generators/config-change.js';
import { edgeGenerator } from './generators/edge.js';
import { externalGenerator } from './generators/external.js';
import { instanceGenerator } from './generators/instance.js';
import { overloadGenerator } from './generators/overload.js';
import { securityPolicyGenerator } from './generators/security-policy.js';
import { serviceGenerator } from './generators/service.js';
import { versionGenerator } from './generators/version.js';

export const GENERATORS: readonly CandidateGenerator[] = [
  instanceGenerator,
  versionGenerator,
  serviceGenerator,
  edgeGenerator,
  externalGenerator,
  configChangeGenerator,
  overloadGenerator,
  securityPolicyGenerator,
];
