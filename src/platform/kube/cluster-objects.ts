import { parseText, type LoadResult } from '../../config/loader.js';
import type { Json } from './kube-client.js';

// Objects as the API server returns them, made into meshmedic resources. Two things differ from
// what a person writes in a file and are put right here: items of a built-in kind's List carry
// no apiVersion and kind (the List says them), and metadata.managedFields is bookkeeping that
// `kubectl get` hides too.

/** The object with apiVersion and kind filled from its List and managedFields removed. */
export function normalizeItem(item: Json, apiVersion: string, kind: string): Json {
  const { managedFields: _m, ...metadata } = item.metadata ?? {};
  return { ...item, apiVersion: item.apiVersion ?? apiVersion, kind: item.kind ?? kind, metadata };
}

/**
 * Resources for cluster objects, loaded by the same code as files (so a cluster object and the
 * same object in a file are the same resource). They have no file: messages show no reference,
 * as istioctl's do for cluster objects.
 */
export function loadObjects(objects: readonly Json[]): LoadResult {
  const out: LoadResult = { resources: [], skipped: [], errors: [] };
  // One document per object: the loader locates each item of a List by parsing the List with
  // positions, which costs seconds for a few hundred objects and buys nothing without a file.
  for (const o of objects) {
    const r = parseText(JSON.stringify(o), '', { defaultNamespace: '' });
    for (const res of r.resources) res.origin = { file: '', line: 0 };
    out.resources.push(...r.resources);
    out.skipped.push(...r.skipped);
    out.errors.push(...r.errors);
  }
  return out;
}
