// Recovery's work in flight, one piece at a time per incident (the local control plane's loop and
// the in-cluster controller): whether an incident is busy, tracking a piece of work until it ends
// (a failure is logged, never thrown at the loop), and waiting for all of it (tests, shutdown).

export class IncidentWork {
  private readonly busy = new Map<string, Promise<unknown>>();

  constructor(private readonly log: (line: string) => void) {}

  has(incidentId: string): boolean {
    return this.busy.has(incidentId);
  }

  ids(): string[] {
    return [...this.busy.keys()];
  }

  track(incidentId: string, p: Promise<unknown>): void {
    const tracked = p
      .catch((e) => this.log(`incident ${incidentId}: ${(e as Error).stack ?? e}`))
      .finally(() => {
        if (this.busy.get(incidentId) === tracked) this.busy.delete(incidentId);
      });
    this.busy.set(incidentId, tracked);
  }

  async idle(): Promise<void> {
    while (this.busy.size) await Promise.all([...this.busy.values()]);
  }
}
