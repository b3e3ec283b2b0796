import { randomBytes } from 'node:crypto';
import { crc32 } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { crc32Combine } from '../../src/ingest/crc32-combine.js';

describe('crc32Combine', () => {
  it("gives the CRC-32 of two byte strings one after the other, whatever their lengths", () => {
    const lengths = [0, 1, 2, 3, 7, 8, 255, 4096, 65_537, 1_048_576 + 3];
    for (const a of lengths) {
      for (const b of lengths) {
        const first = randomBytes(a);
        const second = randomBytes(b);
        expect(crc32Combine(crc32(first), crc32(second), b), `${a} + ${b} bytes`).toBe(crc32(Buffer.concat([first, second])));
      }
    }
  });

  it('chains over many parts as a running CRC-32 does', () => {
    const parts = Array.from({ length: 50 }, (_, i) => randomBytes((i * 7919) % 3000));
    let combined = 0;
    let running = 0;
    for (const p of parts) {
      combined = crc32Combine(combined, crc32(p), p.length);
      running = crc32(p, running);
    }
    expect(combined).toBe(running);
  });

  it('takes lengths past 32 bits', () => {
    // Not checkable against 4 GB of bytes: checked by the algebra instead. With crcB = 0 the
    // combination only shifts A by the length, and shifting by 2^32 bytes then by 5 is shifting by 2^32 + 5.
    const a = crc32(Buffer.from('head'));
    const viaOne = crc32Combine(a, 0, 2 ** 32 + 5);
    expect(viaOne).toBe(crc32Combine(crc32Combine(a, 0, 2 ** 32), 0, 5));
    expect(viaOne).not.toBe(crc32Combine(a, 0, 5));
  });
});
