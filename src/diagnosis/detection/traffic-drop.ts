import type { Detection } from '../model.js';
import { pct } from '../localization/scoring.js';
import { windowText, type Detector } from './detector.js';

// A sudden drop of traffic where it should not drop: an instance whose share of its service's
// requests collapses while the service keeps its traffic (it crashed, hangs, was ejected). A
// drop of the whole mesh's traffic is the load going away, not a fault, and is not reported;
// nor is the drop of an instance recovery quarantined (the control plane withdrew it on purpose:
// otherwise the incident that led to the quarantine could never close).

const MIN_EXPECTED = 10;

export const trafficDropDetector: Detector = {
  check: 'traffic-drop',
  evaluate(s, slo): Detection[] {
    const out: Detection[] = [];
    const services = new Map(s.entities.filter((e) => e.kind === 'service').map((e) => [e.host, e]));
    // An instance the control plane withdrew on purpose (quarantined) is meant to lose its traffic.
    const withdrawn = new Set(s.instances.filter((i) => i.withdrawn).map((i) => `${i.namespace}/${i.name}`));
    for (const e of s.entities) {
      if (e.kind !== 'instance' || withdrawn.has(`${e.namespace}/${e.instance}`)) continue;
      const svc = services.get(e.host);
      const sCur = svc?.current.destination?.rps ?? 0;
      const sBase = svc?.baseline.destination?.rps ?? 0;
      const base = e.baseline.destination?.rps ?? 0;
      if (!(sBase > 0) || !(base > 0) || sCur < 0.5 * sBase) continue;
      const baseShare = base / sBase;
      const share = (e.current.destination?.rps ?? 0) / sCur;
      const threshold = baseShare * slo.instanceShareDrop;
      // Load balancing spreads few requests unevenly: only a share expected to carry enough
      // requests can be said to have collapsed (10 expected, 3 or fewer seen: under 1% by chance).
      if (baseShare * sCur * (slo.windowMs / 1000) < MIN_EXPECTED || share >= threshold) continue;
      out.push({
        check: 'traffic-drop', subject: `instance ${e.instance}.${e.namespace}`, namespace: e.namespace, value: share, threshold, window: windowText(slo), at: s.at,
        text: `instance ${e.instance}.${e.namespace} serves ${pct(share)} of ${e.service}'s requests, down from ${pct(baseShare)}`,
      });
    }
    return out;
  },
};
