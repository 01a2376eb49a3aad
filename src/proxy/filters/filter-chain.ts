import type { Listener } from '../../api/snapshot.js';
import type { HttpStream } from '../http-stream.js';
import type { ProxyContext } from '../proxy-context.js';
import { RouterFilter } from '../router/router-filter.js';
import { Stop, type HttpFilter, type HttpFilterFactory } from './http-filter.js';

/** The filters of one listener, with the response and completion hooks gathered once. */
export class FilterChain {
  readonly responseFilters: HttpFilter[];
  readonly completeFilters: HttpFilter[];

  constructor(readonly filters: HttpFilter[]) {
    this.responseFilters = filters.filter((f) => f.onResponseHeaders);
    this.completeFilters = filters.filter((f) => f.onComplete);
  }

  static build(listener: Listener, ctx: ProxyContext, factories: readonly HttpFilterFactory[]): FilterChain {
    const filters: HttpFilter[] = [];
    for (const make of factories) {
      const f = make(listener, ctx);
      if (f) filters.push(f);
    }
    filters.push(new RouterFilter(ctx)); // always last
    return new FilterChain(filters);
  }
}

/** Runs the request filters from the stream's cursor until one stops. */
export function continueFilterChain(s: HttpStream): void {
  const filters = s.listener.chain.filters;
  while (s.filterIndex < filters.length) {
    const f = filters[s.filterIndex++];
    if (f.onRequest(s) === Stop) return;
  }
}

export function runResponseFilters(s: HttpStream, headers: string[]): void {
  const fs = s.listener.chain.responseFilters;
  for (let i = 0; i < fs.length; i++) fs[i].onResponseHeaders!(s, headers);
}

export function runCompleteFilters(s: HttpStream): void {
  const fs = s.listener.chain.completeFilters;
  for (let i = 0; i < fs.length; i++) fs[i].onComplete!(s);
}
