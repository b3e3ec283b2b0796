/** How long a graceful stop may take before the process gives up on it and exits 1. */
const STOP_DEADLINE_MS = 60_000;

/**
 * On the first SIGTERM or SIGINT, runs `stop` (which finishes or checkpoints the batch under way
 * and releases leases) and exits 0; 1 when stopping fails or outlasts the deadline. A second
 * signal gets Node's default handling: an immediate exit.
 */
export function exitGracefullyOnSignals(stop: () => Promise<void>): void {
  const shutdown = (signal: NodeJS.Signals): void => {
    process.off('SIGTERM', shutdown);
    process.off('SIGINT', shutdown);
    process.stderr.write(`${signal}: shutting down\n`);
    setTimeout(() => {
      process.stderr.write(`shutdown took longer than ${STOP_DEADLINE_MS / 1000} s; exiting\n`);
      process.exit(1);
    }, STOP_DEADLINE_MS).unref();
    stop().then(
      () => process.exit(0),
      (e: unknown) => {
        process.stderr.write(`shutdown failed: ${e instanceof Error ? e.message : String(e)}\n`);
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', shutdown);
  process.on('SIGINT', shutdown);
}
