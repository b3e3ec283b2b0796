/**
 * Zoho ids are 19-digit decimal strings such as `4150868000005350003`: a per-org prefix and a
 * counter. The SDKs read them with BigInt, so they must be digit strings that fit a signed 64-bit
 * integer (official-sdk-wire.md §3). A prefix below 9,223,372 keeps every id under 2^63.
 */
export const ID_COUNTER_SPAN = 1_000_000_000_000n; // 12 counter digits

export function composeId(prefix: number, counter: bigint | number): string {
  if (!Number.isInteger(prefix) || prefix < 1_000_000 || prefix >= 9_000_000) {
    throw new RangeError(`id prefix ${prefix} must have 7 digits and stay below 9000000`);
  }
  // The counter has at most 12 digits, exact as a double: the id is built as text, without BigInt
  // arithmetic, because a bulk insert makes one per row.
  const n = Number(counter);
  if (!Number.isInteger(n) || n < 0 || n >= 1e12) throw new RangeError(`id counter ${counter} out of range`);
  const digits = String(n);
  return `${prefix}${ZEROS[12 - digits.length] as string}${digits}`;
}

/** ZEROS[k] is k zeros: the counter's padding without a padStart per id. */
const ZEROS = Array.from({ length: 13 }, (_, k) => '0'.repeat(k));

const ID_PATTERN = /^[1-9][0-9]{14,18}$/;

/** True for a string that could be one of our ids (15–19 digits, no leading zero). */
export function isIdString(value: string): boolean {
  // Digit strings of equal length compare as their numbers do: no BigInt per job-details poll.
  return ID_PATTERN.test(value) && (value.length < 19 || value <= '9223372036854775807');
}
