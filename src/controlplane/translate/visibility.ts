// Istio's `exportTo`: which namespaces see a Service, VirtualService or DestinationRule.
// `*` all namespaces (the mesh default), `.` the resource's own namespace, `~` none, or names.

export function isVisible(exportTo: readonly string[] | undefined, ownNamespace: string, viewerNamespace: string): boolean {
  if (!exportTo || exportTo.length === 0) return true; // meshConfig.default*ExportTo is `*`
  for (const e of exportTo) {
    if (e === '*') return true;
    if (e === '.' && ownNamespace === viewerNamespace) return true;
    if (e === viewerNamespace) return true;
  }
  return false;
}

export function specExportTo(spec: any): string[] | undefined {
  return Array.isArray(spec?.exportTo) ? spec.exportTo : undefined;
}
