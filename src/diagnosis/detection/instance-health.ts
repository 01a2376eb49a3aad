import type { Detection } from '../model.js';
import { windowText, type Detector } from './detector.js';

// Instances that stopped being ready within the window (the registry's readiness, as the probes
// saw it), and sidecars that stopped answering scrapes while their instance had traffic before:
// a process that dies is a fault even when retries and fallbacks hide it from the callers.

export const instanceHealthDetector: Detector = {
  check: 'instance-health',
  evaluate(s, slo): Detection[] {
    const out: Detection[] = [];
    const busy = new Set(s.entities.filter((e) => e.kind === 'instance' && (e.baseline.destination?.rps ?? 0) > 0).map((e) => `${e.namespace}/${e.instance}`));
    for (const i of s.instances) {
      const subject = `instance ${i.name}.${i.namespace}`;
      if (!i.ready && i.since !== undefined && i.since >= s.at - slo.windowMs) {
        out.push({ check: 'instance-health', subject, namespace: i.namespace, value: 0, threshold: 1, window: windowText(slo), at: s.at, text: `${subject} stopped being ready at ${new Date(i.since).toISOString()}` });
      } else if (i.scrapeUp === false && busy.has(`${i.namespace}/${i.name}`)) {
        out.push({ check: 'instance-health', subject, namespace: i.namespace, value: 0, threshold: 1, window: windowText(slo), at: s.at, text: `${subject}: its sidecar does not answer scrapes (up == 0)` });
      }
    }
    return out;
  },
};
