import cliProgress from 'cli-progress';

export interface ProgressReporter {
  /** `label` names what is being waited for, e.g. `job 2/3 4150868000005350003 INPROGRESS`. */
  update(done: number, total: number, label: string): void;
  stop(): void;
}

/** Rows per second since the first report, and the seconds left at that rate. */
export class RateMeter {
  private start: number | null = null;

  constructor(private readonly now: () => number = Date.now) {}

  sample(done: number, total: number): { rate: number | null; etaSeconds: number | null } {
    const t = this.now();
    this.start ??= t;
    const seconds = (t - this.start) / 1000;
    if (seconds <= 0 || done <= 0) return { rate: null, etaSeconds: null };
    const rate = done / seconds;
    return { rate, etaSeconds: Math.max(0, Math.ceil((total - done) / rate)) };
  }
}

export function formatDuration(seconds: number | null): string {
  if (seconds === null) return '?';
  if (seconds < 60) return `${seconds}s`;
  const m = Math.floor(seconds / 60);
  return m < 60 ? `${m}m${String(seconds % 60).padStart(2, '0')}s` : `${Math.floor(m / 60)}h${String(m % 60).padStart(2, '0')}m`;
}

const rateText = (rate: number | null): string => (rate === null ? '?' : String(Math.round(rate)));

/** A redrawn bar on a terminal (cli-progress), plain lines when stderr is a file or a pipe. */
export function progressReporter(stream: NodeJS.WriteStream = process.stderr, now: () => number = Date.now): ProgressReporter {
  const meter = new RateMeter(now);
  if (stream.isTTY) {
    const bar = new cliProgress.SingleBar(
      { stream, format: '{bar} {value}/{total} rows | {speed} rows/s | ETA {timeLeft} | {label}', hideCursor: true, fps: 5 },
      cliProgress.Presets.shades_classic,
    );
    let started = false;
    return {
      update(done, total, label) {
        const { rate, etaSeconds } = meter.sample(done, total);
        // Not {eta}: cli-progress fills that token itself; ours comes from RateMeter, as in the plain lines.
        const payload = { speed: rateText(rate), timeLeft: formatDuration(etaSeconds), label };
        if (!started) bar.start(total, done, payload);
        else bar.update(done, payload);
        started = true;
      },
      stop: () => {
        if (started) bar.stop();
      },
    };
  }
  let last = '';
  return {
    update(done, total, label) {
      // One line per change, so a log shows the job moving without a line per poll.
      const key = `${done}/${total} ${label}`;
      if (key === last) return;
      last = key;
      const { rate, etaSeconds } = meter.sample(done, total);
      const pct = total > 0 ? ((100 * done) / total).toFixed(1) : '0.0';
      stream.write(`progress: ${done}/${total} rows (${pct}%), ${rateText(rate)} rows/s, ETA ${formatDuration(etaSeconds)}, ${label}\n`);
    },
    stop: () => undefined,
  };
}
