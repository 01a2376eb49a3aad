import type { CompiledMatcher } from './matchers.js';
import type { Series } from './series.js';

// Inverted index: label name -> label value -> series. A selector starts from the smallest
// set one of its matchers allows, then checks the other matchers on each candidate.

export class LabelIndex {
  private readonly byName = new Map<string, Map<string, Set<Series>>>();

  add(series: Series): void {
    for (const [name, value] of Object.entries(series.labels)) {
      let values = this.byName.get(name);
      if (!values) this.byName.set(name, (values = new Map()));
      let set = values.get(value);
      if (!set) values.set(value, (set = new Set()));
      set.add(series);
    }
  }

  remove(series: Series): void {
    for (const [name, value] of Object.entries(series.labels)) {
      const values = this.byName.get(name);
      const set = values?.get(value);
      if (!set) continue;
      set.delete(series);
      if (set.size === 0) values!.delete(value);
      if (values!.size === 0) this.byName.delete(name);
    }
  }

  /**
   * Candidates for the matchers: series that the most selective matcher not matching the empty
   * string allows. Undefined when every matcher matches the empty string (the caller decides:
   * PromQL refuses such selectors).
   */
  candidates(matchers: readonly CompiledMatcher[]): Iterable<Series> | undefined {
    let best: Set<Series>[] | undefined;
    let bestSize = Infinity;
    for (const m of matchers) {
      if (m.matches('')) continue;
      const values = this.byName.get(m.name);
      if (!values) return [];
      let sets: Set<Series>[];
      if (m.op === '=') {
        const s = values.get(m.value);
        sets = s ? [s] : [];
      } else {
        sets = [];
        for (const [v, s] of values) if (m.matches(v)) sets.push(s);
      }
      let size = 0;
      for (const s of sets) size += s.size;
      if (size < bestSize) {
        best = sets;
        bestSize = size;
      }
      if (size === 0) return [];
    }
    if (!best) return undefined;
    return best.length === 1 ? best[0] : unionOf(best);
  }

  labelNames(): string[] {
    return [...this.byName.keys()].sort();
  }

  labelValues(name: string): string[] {
    return [...(this.byName.get(name)?.keys() ?? [])].sort();
  }
}

function* unionOf(sets: Set<Series>[]): Iterable<Series> {
  // A series has one value per label, so the sets of one label's values never overlap.
  for (const s of sets) yield* s;
}
