import { api } from './api.js';
import { empty, h, header } from './format.js';
import type { ConfigItem } from './types.js';

// The Istio resources in the store with istioctl analyze's messages (GET /api/v1/dashboard/config):
// one card per resource, its messages by level with the field each points at. `#/config/<Kind/ns/name>`
// scrolls to one resource.

const LEVEL_ORDER: Record<string, number> = { Error: 0, Warning: 1, Info: 2 };

export async function configPage(root: HTMLElement, [focus]: string[]): Promise<void> {
  const { items } = await api<{ items: ConfigItem[] }>('/api/v1/dashboard/config');
  const filter = h('input', { type: 'search', placeholder: 'Filter by kind, namespace or name', class: 'search', oninput: () => draw() }) as HTMLInputElement;
  const onlyMessages = h('input', { type: 'checkbox', id: 'only-messages', onchange: () => draw() }) as HTMLInputElement;
  const counts: Record<string, number> = { Error: 0, Warning: 0, Info: 0 };
  for (const i of items) for (const m of i.messages) counts[m.level] = (counts[m.level] ?? 0) + 1;
  const list = h('div', { class: 'config-list', id: 'config-list' });
  root.append(
    header('Config', `${items.length} resources in the store · ${counts.Error} errors, ${counts.Warning} warnings, ${counts.Info} info from analysis`, filter, h('label', { class: 'check' }, onlyMessages, ' with messages only')),
    list,
  );
  const sorted = [...items].sort((a, b) => b.messages.length - a.messages.length || a.kind.localeCompare(b.kind) || a.namespace.localeCompare(b.namespace) || a.name.localeCompare(b.name));
  function draw(): void {
    const q = filter.value.trim().toLowerCase();
    const shown = sorted.filter((i) => (!onlyMessages.checked || i.messages.length) && (!q || `${i.kind} ${i.namespace}/${i.name}`.toLowerCase().includes(q)));
    list.replaceChildren(...(shown.length ? shown.map(card) : [empty('No resource matches.')]));
  }
  draw();
  if (focus) document.getElementById(`res-${focus}`)?.scrollIntoView({ block: 'start' });
}

function card(i: ConfigItem): HTMLElement {
  const ref = `${i.kind}/${i.namespace}/${i.name}`;
  const msgs = [...i.messages].sort((a, b) => LEVEL_ORDER[a.level] - LEVEL_ORDER[b.level]);
  return h('section', { class: `card resource${msgs.length ? ' has-messages' : ''}`, id: `res-${ref}` },
    h('div', { class: 'resource-head' }, h('span', { class: 'kind' }, i.kind), h('strong', {}, `${i.namespace}/${i.name}`), h('span', { class: 'muted small' }, `${i.origin.file}:${i.origin.line}`),
      msgs.length ? h('span', { class: 'badge level-warning' }, `${msgs.length} message${msgs.length > 1 ? 's' : ''}`) : h('span', { class: 'badge ok' }, 'no findings')),
    msgs.length ? h('ul', { class: 'messages' }, ...msgs.map((m) => h('li', { class: `msg level-${m.level.toLowerCase()}` },
      h('span', { class: `badge level-${m.level.toLowerCase()}` }, m.level), h('code', {}, m.code), ' ', m.text,
      m.field ? h('div', { class: 'muted small' }, 'field ', h('code', {}, m.field), m.line ? ` (line ${m.line})` : '') : null))) : null,
    h('details', {}, h('summary', {}, 'spec'), h('pre', {}, JSON.stringify(i.raw.spec ?? i.raw, null, 2))));
}
