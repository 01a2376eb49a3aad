import type { Listener } from '../../api/snapshot.js';

/** A bound listener socket the manager opens, keeps across snapshots, and closes. */
export interface ActiveListener {
  def: Listener;
  listen(): Promise<void>;
  /** Stop accepting; let open connections finish for up to `graceMs`, then cut them. */
  close(graceMs: number): Promise<void>;
}
