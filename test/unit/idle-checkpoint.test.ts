import { afterEach, beforeEach, expect, it, vi } from 'vitest';
import { IdleCheckpoint } from '../../src/store/idle-checkpoint.js';

beforeEach(() => {
  vi.useFakeTimers();
});

afterEach(() => {
  vi.useRealTimers();
});

it('waits for a quiet moment: activity closer together than the delay postpones the checkpoint', () => {
  const runs: number[] = [];
  const idle = new IdleCheckpoint(() => {
    runs.push(Date.now());
    return true;
  }, 250);
  const start = Date.now();
  // A job's batches, every 10 ms for two seconds.
  for (let t = 0; t < 2_000; t += 10) {
    idle.activity();
    vi.advanceTimersByTime(10);
  }
  expect(runs).toEqual([]);
  vi.advanceTimersByTime(240);
  expect(runs).toEqual([start + 2_000 + 240]);
  // Nothing more until the next activity.
  vi.advanceTimersByTime(10_000);
  expect(runs).toHaveLength(1);
  idle.activity();
  vi.advanceTimersByTime(250);
  expect(runs).toHaveLength(2);
});

it('tries again after the same delay while a checkpoint says it did not finish, or failed', () => {
  const outcomes = [false, 'throw', true] as const;
  let calls = 0;
  const idle = new IdleCheckpoint(() => {
    const outcome = outcomes[calls++];
    if (outcome === 'throw') throw new Error('SQLITE_BUSY');
    return outcome ?? true;
  }, 250);
  idle.activity();
  vi.advanceTimersByTime(250);
  expect(calls).toBe(1);
  vi.advanceTimersByTime(250);
  expect(calls).toBe(2);
  vi.advanceTimersByTime(250);
  expect(calls).toBe(3);
  vi.advanceTimersByTime(5_000);
  expect(calls).toBe(3);
});

it('runs no checkpoint once stopped, whatever activity comes after', () => {
  let calls = 0;
  const idle = new IdleCheckpoint(() => {
    calls++;
    return false;
  }, 250);
  idle.activity();
  vi.advanceTimersByTime(100);
  idle.stop();
  idle.activity(); // a batch answered after the close arrived
  vi.advanceTimersByTime(5_000);
  expect(calls).toBe(0);
});
