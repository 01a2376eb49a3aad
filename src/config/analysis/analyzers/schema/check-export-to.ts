import type { FieldPath } from '../../../../api/resource.js';
import { isDNS1123Label } from './check-hosts.js';
import type { Findings } from './findings.js';
import { list, str } from './yaml-values.js';

/**
 * exportTo lists `.` (this namespace), `*` (everyone), namespace names, and for ServiceEntries
 * `~` (no one). Duplicates and contradictory mixes are errors.
 */
export function checkExportTo(f: Findings, path: FieldPath, namespace: string, exportTo: unknown, isServiceEntry: boolean, drWithSelector: boolean): void {
  const values = list(exportTo).map(str);
  if (values.length === 0) return;
  const seen = new Set<string>();
  values.forEach((e, i) => {
    const key = e === '.' ? namespace : e;
    if (seen.has(key)) {
      f.error([...path, i], key !== e ? `exportTo lists both "." and the current namespace ${namespace}` : `exportTo lists ${e} more than once`);
    } else if (isServiceEntry && e === '~') {
      seen.add(key);
    } else if (key === '.' || key === '*' || isDNS1123Label(key)) {
      seen.add(key);
    } else {
      f.error([...path, i], `exportTo value "${e}" is not ".", "*" or a namespace name`);
    }
  });
  if (drWithSelector && seen.size > 0) {
    if (!seen.has(namespace)) f.error(path, 'a DestinationRule with a workloadSelector cannot be exported beyond its own namespace');
    else if (seen.size > 1) f.error(path, 'a DestinationRule with a workloadSelector can have only one exportTo entry');
  }
  if (seen.has('*') && values.length > 1) f.error(path, 'exportTo cannot mix "*" (public) with other values');
  if (seen.has('~') && values.length > 1) f.error(path, 'exportTo cannot mix "~" (no one) with other values');
}
