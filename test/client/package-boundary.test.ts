import { execFile } from 'node:child_process';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const CLIENT = path.resolve('client');
/** What the client may import: Node built-ins, its own files and its three declared dependencies. */
const ALLOWED_PACKAGES = ['csv-parse', 'yauzl', 'yazl'];

async function importsOf(dir: string, ext: string): Promise<{ file: string; specifier: string }[]> {
  const found: { file: string; specifier: string }[] = [];
  for (const name of (await readdir(dir)).filter((f) => f.endsWith(ext))) {
    const text = await readFile(path.join(dir, name), 'utf8');
    for (const m of text.matchAll(/(?:^|\n)\s*(?:import|export)\b[^'"]*?from\s+['"]([^'"]+)['"]|\bimport\(\s*['"]([^'"]+)['"]\s*\)/g)) {
      found.push({ file: name, specifier: (m[1] ?? m[2]) as string });
    }
  }
  return found;
}

const outsideTheClient = (specifier: string): boolean =>
  !specifier.startsWith('node:') && !specifier.startsWith('./') && !ALLOWED_PACKAGES.some((p) => specifier === p || specifier.startsWith(`${p}/`));

describe('the @bulkwright/client package', () => {
  it('imports nothing from the server, in its source and in its build', async () => {
    const source = await importsOf(path.join(CLIENT, 'src'), '.ts');
    const built = await importsOf(path.join(CLIENT, 'dist'), '.js');
    expect(source.length).toBeGreaterThan(10);
    expect(built.length).toBeGreaterThan(10);
    expect([...source, ...built].filter((i) => outsideTheClient(i.specifier))).toEqual([]);
    expect([...source, ...built].filter((i) => /\.\.\//.test(i.specifier))).toEqual([]);
  });

  it('declares exactly the packages it imports, pinned', async () => {
    const pkg = JSON.parse(await readFile(path.join(CLIENT, 'package.json'), 'utf8')) as {
      name: string; type: string; dependencies: Record<string, string>;
    };
    expect(pkg.name).toBe('@bulkwright/client');
    expect(pkg.type).toBe('module');
    expect(Object.keys(pkg.dependencies).sort()).toEqual(ALLOWED_PACKAGES);
    for (const version of Object.values(pkg.dependencies)) expect(version).toMatch(/^\d+\.\d+\.\d+$/);
  });

  it('is importable by name from the repository root, in a plain node process', async () => {
    const { stdout } = await promisify(execFile)(process.execPath, [
      '-e', "import('@bulkwright/client').then((m) => console.log(Object.keys(m).sort().join(',')))",
    ]);
    const names = stdout.trim().split(',');
    expect(names).toEqual(expect.arrayContaining(['BulkwrightClient', 'ZohoBulkClient', 'ZohoApiError', 'JobWaitTimeoutError', 'exchangeGrantCode', 'splitCsv']));
  });
});
