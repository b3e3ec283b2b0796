import { constants, inflateRawSync } from 'node:zlib';
import type { ResultPart } from '../../src/ports/store.js';

/** The result CSV's bytes a part holds, inflated when it was committed deflated. */
export function partBytes(part: ResultPart): Buffer {
  if (part instanceof Uint8Array) return Buffer.from(part);
  // A deflated part ends with a sync flush, not a final block: inflated as far as it goes.
  return inflateRawSync(part.deflated, { finishFlush: constants.Z_SYNC_FLUSH });
}

/** A resource's result CSV, read whole from its parts. */
export async function resultBytes(parts: AsyncIterable<ResultPart>): Promise<Buffer> {
  const out: Buffer[] = [];
  for await (const part of parts) out.push(partBytes(part));
  return Buffer.concat(out);
}
