/**
 * Zoho writes every time as ISO-8601 with seconds and the org's offset, e.g.
 * `2021-05-11T12:38:29+05:30` (CONTRACT.md "The job-details object"); the SDKs parse it with
 * `new Date()`, so no milliseconds and always an explicit offset.
 */
const formatters = new Map<string, Intl.DateTimeFormat>();

function formatterFor(timeZone: string): Intl.DateTimeFormat {
  let f = formatters.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
    });
    formatters.set(timeZone, f);
  }
  return f;
}

export function isValidTimeZone(timeZone: string): boolean {
  try {
    formatterFor(timeZone);
    return true;
  } catch {
    return false;
  }
}

export function formatZohoTime(at: Date, timeZone: string): string {
  const parts: Record<string, string> = {};
  for (const p of formatterFor(timeZone).formatToParts(at)) parts[p.type] = p.value;
  const wall = Date.UTC(
    Number(parts.year),
    Number(parts.month) - 1,
    Number(parts.day),
    Number(parts.hour),
    Number(parts.minute),
    Number(parts.second),
  );
  const offsetMinutes = Math.round((wall - Math.floor(at.getTime() / 1000) * 1000) / 60_000);
  const sign = offsetMinutes < 0 ? '-' : '+';
  const abs = Math.abs(offsetMinutes);
  const offset = `${sign}${pad(Math.floor(abs / 60))}:${pad(abs % 60)}`;
  return `${parts.year}-${parts.month}-${parts.day}T${parts.hour}:${parts.minute}:${parts.second}${offset}`;
}

function pad(n: number): string {
  return n < 10 ? `0${n}` : String(n);
}

/** Offset (minutes east of UTC) of a zone at an instant. */
export function zoneOffsetMinutes(at: Date, timeZone: string): number {
  const text = formatZohoTime(at, timeZone);
  const sign = text[19] === '-' ? -1 : 1;
  return sign * (Number(text.slice(20, 22)) * 60 + Number(text.slice(23, 25)));
}

/** The instant at which a zone's clocks read the given wall time (first match across a DST gap). */
export function wallTimeToInstant(
  wall: { year: number; month: number; day: number; hour: number; minute: number; second: number },
  timeZone: string,
): Date {
  const asUtc = Date.UTC(wall.year, wall.month - 1, wall.day, wall.hour, wall.minute, wall.second);
  // The zone's offsets on either side of any transition near this wall time.
  const offsets = [...new Set([-1, 1].map((d) => zoneOffsetMinutes(new Date(asUtc + d * 86_400_000 / 2), timeZone)))];
  const candidates = offsets.map((o) => asUtc - o * 60_000).sort((a, b) => a - b);
  const wallText = formatZohoTime(new Date(asUtc), 'UTC').slice(0, 19);
  const matching = candidates.filter((t) => formatZohoTime(new Date(t), timeZone).slice(0, 19) === wallText);
  // In an overlap (clocks set back) the earlier instant wins; in a gap (clocks set forward) the
  // wall time does not exist and moves forward by the gap, as java.time does.
  return new Date(matching.length > 0 ? (matching[0] as number) : (candidates[candidates.length - 1] as number));
}
