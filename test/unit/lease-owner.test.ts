import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { leaseOwnerDiedHere, newLeaseOwnerId } from '../../src/worker/lease-owner.js';

function startIdleProcess(): { pid: number; kill: () => Promise<void> } {
  const child = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' });
  if (child.pid === undefined) throw new Error('no child');
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return {
    pid: child.pid,
    kill: async () => {
      child.kill('SIGKILL');
      await exited;
    },
  };
}

describe('lease owner ids', () => {
  it('name this process and differ on every call', () => {
    const a = newLeaseOwnerId();
    expect(a).toMatch(new RegExp(`^worker-${process.pid}-[0-9a-f]{8}$`));
    expect(newLeaseOwnerId()).not.toBe(a);
  });

  it('call an owner gone once its process has exited, not while it runs', async () => {
    const child = startIdleProcess();
    const owner = `worker-${child.pid}-0123abcd`;
    expect(leaseOwnerDiedHere(owner)).toBe(false);
    await child.kill();
    expect(leaseOwnerDiedHere(owner)).toBe(true);
  });

  it('never call this process, or an owner of another naming, gone', () => {
    expect(leaseOwnerDiedHere(newLeaseOwnerId())).toBe(false);
    expect(leaseOwnerDiedHere('worker-a')).toBe(false);
    expect(leaseOwnerDiedHere('node-1:worker')).toBe(false);
  });
});
