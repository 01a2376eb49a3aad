// Every detector. Adding a check is one file plus one line here.
import type { Detector } from './detector.js';
import { errorRatioDetector } from './error-ratio.js';
import { instanceHealthDetector } from './instance-health.js';
import { latencyDetector } from './latency.js';
import { trafficDropDetector } from './traffic-drop.js';

export const DETECTORS: readonly Detector[] = [errorRatioDetector, latencyDetector, trafficDropDetector, instanceHealthDetector];
