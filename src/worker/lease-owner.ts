import { randomUUID } from 'node:crypto';

/**
 * Names a lease holder (jobs, callback deliveries) `worker-<pid>-<random>`: unique across
 * processes and restarts, and telling, on one machine, which process holds a lease.
 */
export function newLeaseOwnerId(): string {
  return `worker-${process.pid}-${randomUUID().slice(0, 8)}`;
}

/**
 * True when `owner` names a process of this machine that no longer runs, so its leases can be
 * taken over at once instead of when they expire. Valid only where every process sharing the
 * store runs on this machine (Store.singleHost): elsewhere the same pid is another process.
 * An owner of this process, or one not named by newLeaseOwnerId, is never called gone.
 */
export function leaseOwnerDiedHere(owner: string): boolean {
  const m = /^worker-(\d+)-/.exec(owner);
  if (!m) return false;
  const pid = Number(m[1]);
  if (pid === process.pid) return false;
  try {
    process.kill(pid, 0);
    return false;
  } catch (e) {
    // EPERM: the process exists but belongs to another user, so it lives.
    return typeof e === 'object' && e !== null && 'code' in e && e.code === 'ESRCH';
  }
}
