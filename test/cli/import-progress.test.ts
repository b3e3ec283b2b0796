import { describe, expect, it } from 'vitest';
import { formatDuration, progressReporter, RateMeter } from '../../src/cli/import-progress.js';

describe('import progress', () => {
  it('measures rows per second since the first report and the time left at that rate', () => {
    let now = 1_000;
    const meter = new RateMeter(() => now);
    expect(meter.sample(0, 100)).toEqual({ rate: null, etaSeconds: null });
    now += 2_000;
    expect(meter.sample(40, 100)).toEqual({ rate: 20, etaSeconds: 3 });
    now += 3_000;
    expect(meter.sample(100, 100)).toEqual({ rate: 20, etaSeconds: 0 });
  });

  it('writes durations as seconds, minutes or hours', () => {
    expect([formatDuration(null), formatDuration(42), formatDuration(61), formatDuration(3_725)]).toEqual(['?', '42s', '1m01s', '1h02m']);
  });

  it('prints one plain line per change when the output is not a terminal', () => {
    const written: string[] = [];
    const stream = { isTTY: false, write: (s: string) => written.push(s) } as unknown as NodeJS.WriteStream;
    let now = 0;
    const reporter = progressReporter(stream, () => now);
    reporter.update(0, 10, 'job 1/1 4150868000005350003 ADDED');
    reporter.update(0, 10, 'job 1/1 4150868000005350003 ADDED');
    now = 2_000;
    reporter.update(10, 10, 'job 1/1 4150868000005350003 COMPLETED');
    expect(written).toEqual([
      'progress: 0/10 rows (0.0%), ? rows/s, ETA ?, job 1/1 4150868000005350003 ADDED\n',
      'progress: 10/10 rows (100.0%), 5 rows/s, ETA 0s, job 1/1 4150868000005350003 COMPLETED\n',
    ]);
  });
});
