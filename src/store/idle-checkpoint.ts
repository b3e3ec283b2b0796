/**
 * Runs a checkpoint once nothing has happened for `delayMs`, and again after the same delay while
 * the checkpoint says it did not finish (a commit of another connection raced it). Activity
 * postpones it; stop() ends it. The commit thread keeps one for SQLite's WAL: checkpoints fall
 * between jobs or after a job's last batch, where a size mark put them in the middle of a job.
 */
export class IdleCheckpoint {
  private timer: NodeJS.Timeout | null = null;
  private stopped = false;

  /** @param checkpoint true once there is nothing left to do until the next activity */
  constructor(
    private readonly checkpoint: () => boolean,
    private readonly delayMs: number,
  ) {}

  /** Something was written: the checkpoint waits for the next quiet `delayMs`. */
  activity(): void {
    if (this.stopped) return;
    this.arm();
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }

  private arm(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => this.fire(), this.delayMs);
    // An idle thread must not be kept alive for it.
    this.timer.unref();
  }

  private fire(): void {
    this.timer = null;
    if (this.stopped) return;
    let done = false;
    try {
      done = this.checkpoint();
    } catch {
      // Tried again after the next quiet moment: nothing waits on it.
    }
    if (!done) this.arm();
  }
}
