import { post } from './api.js';
import { errorBox, h, ms, pct, rps, time } from './format.js';
import type { RecoveryAction, SloFigures } from './types.js';

// An incident's recovery actions (src/recovery): each with its state (proposed, applying,
// verifying, verified, rolled back...), what it changes and for whom, the SLO figures before
// and after it, and the buttons of manual mode: approve a proposed action, roll back one that
// is applied. The buttons call the control plane (POST /api/v1/recovery/actions/:id/approve |
// rollback) and the section is redrawn from the answer.

const ROLLBACK_STATES = new Set(['verifying', 'verified']);

export function recoverySection(actions: RecoveryAction[] | undefined, redraw: () => void): HTMLElement {
  const section = h('section', { class: 'card', id: 'recovery' }, h('h2', {}, 'Recovery'));
  if (!actions?.length) {
    section.append(h('p', { class: 'muted' }, 'No action yet. In auto mode (`meshmedic up --auto-recover`) the control plane acts once the top cause is stable; in manual mode `meshmedic recover` proposes a plan here.'));
    return section;
  }
  const problems = h('div', {});
  section.append(problems, h('ol', { class: 'actions-list' }, ...[...actions].sort((a, b) => a.position - b.position).map((a) => actionItem(a, problems, redraw))));
  return section;
}

function actionItem(a: RecoveryAction, problems: HTMLElement, redraw: () => void): HTMLElement {
  const act = (verb: 'approve' | 'rollback') => async (ev: Event) => {
    (ev.currentTarget as HTMLButtonElement).disabled = true;
    try {
      await post(`/api/v1/recovery/actions/${encodeURIComponent(a.id)}/${verb}`);
      redraw();
    } catch (e) {
      problems.replaceChildren(errorBox(e));
    }
  };
  const buttons = [
    a.state === 'proposed' ? h('button', { class: 'button primary', 'data-action': 'approve', onclick: act('approve') }, 'Approve') : null,
    ROLLBACK_STATES.has(a.state) ? h('button', { class: 'button', 'data-action': 'rollback', onclick: act('rollback') }, 'Roll back') : null,
  ];
  return h('li', { class: `action state-${a.state}`, id: `action-${a.id}`, 'data-state': a.state },
    h('div', { class: 'action-head' }, h('span', { class: `badge action-state state-${a.state}` }, a.state), h('strong', {}, a.summary), h('span', { class: 'muted small' }, ` ${a.kind} · ${a.mode}`)),
    h('div', { class: 'muted small' }, `Expected: ${a.expectedEffect} · Blast radius: ${a.blastRadius.text}`),
    a.before || a.after ? h('div', { class: 'slo-compare' }, slo('before', a.before), slo('after', a.after)) : null,
    a.reason ? h('div', { class: 'small' }, a.reason) : null,
    h('div', { class: 'muted small' }, [a.appliedAt ? `applied ${time(a.appliedAt)}` : null, a.endedAt ? `ended ${time(a.endedAt)}` : null].filter(Boolean).join(' · ')),
    h('div', { class: 'action-buttons' }, ...buttons));
}

function slo(label: string, f: SloFigures | undefined): HTMLElement {
  if (!f) return h('span', { class: 'slo' }, h('strong', {}, label), ' –');
  return h('span', { class: `slo ${f.healthy ? 'ok' : 'bad'}` }, h('strong', {}, label), ` ${pct(f.errorRatio)} errors · p99 ${ms(f.p99Ms)} · ${rps(f.rps)} rps`);
}
