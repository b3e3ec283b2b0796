/** Zoho's Bulk Write limits (CONTRACT.md "Limits"), each configurable; `unlimited` lifts them. */
export interface Limits {
  readonly maxZipBytes: number;
  readonly maxRowsPerCsv: number;
  readonly maxColumns: number;
  readonly maxFieldMappings: number;
}

export type ProfileName = 'zoho' | 'unlimited';

export const PROFILES: Readonly<Record<ProfileName, Limits>> = {
  zoho: { maxZipBytes: 25 * 1024 * 1024, maxRowsPerCsv: 25_000, maxColumns: 200, maxFieldMappings: 200 },
  unlimited: {
    maxZipBytes: Number.MAX_SAFE_INTEGER,
    maxRowsPerCsv: Number.MAX_SAFE_INTEGER,
    maxColumns: 5_000,
    maxFieldMappings: 5_000,
  },
};
