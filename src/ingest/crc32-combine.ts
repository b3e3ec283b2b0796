/**
 * CRC-32 (the zip and gzip one) of two byte strings one after the other, from the CRC of each and
 * the length of the second: zlib's crc32_combine, which Node does not expose. A result CSV is
 * deflated a batch at a time, each part with its own CRC; the zip's entry needs the CRC of them all.
 *
 * The CRC is the message's polynomial times x^32, modulo P, in GF(2) (bit-reversed: bit 31 is
 * x^0). Appending len2 bytes multiplies the first CRC by x^(8·len2) before the second is added
 * (a XOR); the power is found by squaring, in log2(len2) steps.
 */

/** P, bit-reversed. */
const POLY = 0xedb88320;

/** a·b modulo P, bit-reversed polynomials. */
function multModP(a: number, b: number): number {
  let m = 0x80000000;
  let p = 0;
  for (;;) {
    if (a & m) {
      p ^= b;
      if ((a & (m - 1)) === 0) break;
    }
    m >>>= 1;
    b = b & 1 ? (b >>> 1) ^ POLY : b >>> 1;
  }
  return p >>> 0;
}

/** x^(2^k) modulo P, for k = 0…31. */
const X_POW_2K: number[] = [0x40000000];
for (let k = 1; k < 32; k++) X_POW_2K.push(multModP(X_POW_2K[k - 1] as number, X_POW_2K[k - 1] as number));

/** x^(n·2^k) modulo P. */
function xPowModP(n: number, k: number): number {
  let p = 0x80000000; // x^0
  while (n > 0) {
    if (n % 2 === 1) p = multModP(X_POW_2K[k % 32] as number, p);
    n = Math.floor(n / 2);
    k++;
  }
  return p;
}

/** The CRC-32 of A followed by B, from crcA, crcB and B's length in bytes. */
export function crc32Combine(crcA: number, crcB: number, lengthB: number): number {
  if (lengthB === 0) return crcA >>> 0;
  return (multModP(xPowModP(lengthB, 3), crcA >>> 0) ^ crcB) >>> 0;
}
