import { createWriteStream } from 'node:fs';
import { pipeline } from 'node:stream/promises';
import yazl from 'yazl';

/** Zips one CSV from disk into `zipPath` as the single entry `entryName`, streaming (Zoho takes a zip of one CSV). */
export async function zipCsvFile(csvPath: string, entryName: string, zipPath: string): Promise<void> {
  const zip = new yazl.ZipFile();
  zip.addFile(csvPath, entryName);
  zip.end();
  await pipeline(zip.outputStream, createWriteStream(zipPath));
}
