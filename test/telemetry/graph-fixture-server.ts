import { ControlPlane } from '../../src/controlplane/control-plane.js';
import { fillShop, NOW } from './graph-fixture.js';

// A control plane in its own process whose metrics store holds the shop's known traffic
// (graph-fixture.ts) and whose clock stands at NOW, for CLI tests: the CLI runs as a child
// process of the test (runCli blocks), so the control plane cannot live in the test's process.
// Prints {"url": ...} on one line once listening; stops on SIGTERM.
//
//   node graph-fixture-server.js <host>

const cp = new ControlPlane({ clock: { now: () => NOW }, host: process.argv[2] ?? '127.0.0.1', metrics: { enabled: false } });
fillShop(cp.metrics.store);
const { url } = await cp.start();
process.stdout.write(`${JSON.stringify({ url })}\n`);
process.once('SIGTERM', () => {
  void cp.stop().then(() => process.exit(0));
});
