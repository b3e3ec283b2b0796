import { describe, expect, it } from 'vitest';
import { formatZohoTime, isValidTimeZone, wallTimeToInstant, zoneOffsetMinutes } from '../../src/domain/time.js';
import { eachCase } from './case-table.js';

const NEW_YORK = 'America/New_York';

function wall(text: string): { year: number; month: number; day: number; hour: number; minute: number; second: number } {
  const m = /^(\d{4})-(\d{2})-(\d{2}) (\d{2}):(\d{2}):(\d{2})$/.exec(text);
  if (!m) throw new Error(`test setup: ${text} is not yyyy-MM-dd HH:mm:ss`);
  const [year, month, day, hour, minute, second] = m.slice(1).map(Number) as [number, number, number, number, number, number];
  return { year, month, day, hour, minute, second };
}

describe('formatZohoTime', () => {
  eachCase([
    { spec: 'writes UTC with a +00:00 offset', instant: '2021-05-11T07:08:29Z', zone: 'UTC', expected: '2021-05-11T07:08:29+00:00' },
    { spec: 'writes midnight as 00, not 24', instant: '2024-01-01T00:00:00Z', zone: 'UTC', expected: '2024-01-01T00:00:00+00:00' },
    { spec: 'writes Asia/Kolkata with +05:30 (the seed sample)', instant: '2021-05-11T07:08:29Z', zone: 'Asia/Kolkata', expected: '2021-05-11T12:38:29+05:30' },
    { spec: 'drops milliseconds', instant: '2021-05-11T07:08:29.999Z', zone: 'Asia/Kolkata', expected: '2021-05-11T12:38:29+05:30' },
    { spec: 'moves to the next day and year in Kolkata', instant: '2024-12-31T20:00:00Z', zone: 'Asia/Kolkata', expected: '2025-01-01T01:30:00+05:30' },
    { spec: 'writes a +05:45 offset', instant: '2024-06-01T12:00:00Z', zone: 'Asia/Kathmandu', expected: '2024-06-01T17:45:00+05:45' },
    { spec: 'writes a negative half-hour offset', instant: '2024-06-01T12:00:00Z', zone: 'America/St_Johns', expected: '2024-06-01T09:30:00-02:30' },
    { spec: 'writes New York winter time with -05:00', instant: '2024-01-15T17:00:00Z', zone: NEW_YORK, expected: '2024-01-15T12:00:00-05:00' },
    { spec: 'writes New York summer time with -04:00', instant: '2024-07-01T16:00:00Z', zone: NEW_YORK, expected: '2024-07-01T12:00:00-04:00' },
    { spec: 'writes the last second before New York springs forward', instant: '2024-03-10T06:59:59Z', zone: NEW_YORK, expected: '2024-03-10T01:59:59-05:00' },
    { spec: 'writes the first second after New York springs forward', instant: '2024-03-10T07:00:00Z', zone: NEW_YORK, expected: '2024-03-10T03:00:00-04:00' },
    { spec: 'writes the first 01:30 of the New York fall-back night with -04:00', instant: '2024-11-03T05:30:00Z', zone: NEW_YORK, expected: '2024-11-03T01:30:00-04:00' },
    { spec: 'writes the second 01:30 of the New York fall-back night with -05:00', instant: '2024-11-03T06:30:00Z', zone: NEW_YORK, expected: '2024-11-03T01:30:00-05:00' },
  ], ({ instant, zone, expected }) => {
    expect(formatZohoTime(new Date(instant), zone)).toBe(expected);
  });
});

describe('zoneOffsetMinutes', () => {
  eachCase([
    { zone: 'UTC', instant: '2024-01-15T12:00:00Z', expected: 0 },
    { zone: 'Asia/Kolkata', instant: '2024-01-15T12:00:00Z', expected: 330 },
    { zone: NEW_YORK, instant: '2024-01-15T12:00:00Z', expected: -300 },
    { zone: NEW_YORK, instant: '2024-07-15T12:00:00Z', expected: -240 },
    { zone: 'America/St_Johns', instant: '2024-01-15T12:00:00Z', expected: -210 },
  ], (r) => `is ${r.expected} minutes in ${r.zone} at ${r.instant}`, ({ zone, instant, expected }) => {
    expect(zoneOffsetMinutes(new Date(instant), zone)).toBe(expected);
  });
});

describe('isValidTimeZone', () => {
  eachCase([
    { zone: 'Asia/Kolkata', expected: true },
    { zone: 'America/New_York', expected: true },
    { zone: 'UTC', expected: true },
    { zone: 'Mars/Olympus_Mons', expected: false },
    { zone: '+05:30 IST', expected: false },
  ], (r) => `says ${r.expected} for ${r.zone}`, ({ zone, expected }) => {
    expect(isValidTimeZone(zone)).toBe(expected);
  });
});

describe('wallTimeToInstant', () => {
  eachCase([
    { spec: 'reads UTC wall time as the same instant', wallTime: '2024-01-01 00:00:00', zone: 'UTC', expected: '2024-01-01T00:00:00.000Z' },
    { spec: 'subtracts 05:30 in Asia/Kolkata', wallTime: '2021-05-11 12:38:29', zone: 'Asia/Kolkata', expected: '2021-05-11T07:08:29.000Z' },
    { spec: 'crosses back a day in Asia/Kolkata', wallTime: '2025-01-01 01:30:00', zone: 'Asia/Kolkata', expected: '2024-12-31T20:00:00.000Z' },
    { spec: 'adds 05:00 in New York winter', wallTime: '2024-01-15 12:00:00', zone: NEW_YORK, expected: '2024-01-15T17:00:00.000Z' },
    { spec: 'adds 04:00 in New York summer', wallTime: '2024-07-01 12:00:00', zone: NEW_YORK, expected: '2024-07-01T16:00:00.000Z' },
    { spec: 'reads the last wall second before the spring gap as winter time', wallTime: '2024-03-10 01:59:59', zone: NEW_YORK, expected: '2024-03-10T06:59:59.000Z' },
    { spec: 'reads the first wall second after the spring gap as summer time', wallTime: '2024-03-10 03:00:00', zone: NEW_YORK, expected: '2024-03-10T07:00:00.000Z' },
    { spec: 'reads a repeated fall-back wall time as its first (summer) occurrence', wallTime: '2024-11-03 01:30:00', zone: NEW_YORK, expected: '2024-11-03T05:30:00.000Z' },
    { spec: 'reads the wall time after the fall-back hour as winter time', wallTime: '2024-11-03 02:00:00', zone: NEW_YORK, expected: '2024-11-03T07:00:00.000Z' },
  ], ({ wallTime, zone, expected }) => {
    expect(wallTimeToInstant(wall(wallTime), zone).toISOString()).toBe(expected);
  });

  eachCase([
    { zone: 'Asia/Kolkata', wallTime: '2021-05-11 12:38:29', expected: '2021-05-11T12:38:29+05:30' },
    { zone: NEW_YORK, wallTime: '2024-03-10 03:30:00', expected: '2024-03-10T03:30:00-04:00' },
    { zone: NEW_YORK, wallTime: '2024-11-03 01:30:00', expected: '2024-11-03T01:30:00-04:00' },
  ], (r) => `round-trips ${r.wallTime} in ${r.zone} through formatZohoTime`, ({ zone, wallTime, expected }) => {
    expect(formatZohoTime(wallTimeToInstant(wall(wallTime), zone), zone)).toBe(expected);
  });

  it('moves a wall time inside the spring-forward gap forward by the gap, as Java does', () => {
    expect(wallTimeToInstant(wall('2024-03-10 02:30:00'), NEW_YORK).toISOString()).toBe('2024-03-10T07:30:00.000Z');
  });
});
