import { readFile } from 'node:fs/promises';
import { parse as parseYaml } from 'yaml';
import { parseSchemaDocument } from '../domain/schema.js';
import type { ModuleSpec } from '../domain/standard-modules.js';

/** Reads a `--schema` file, JSON or YAML (chosen by extension; YAML also reads plain JSON). */
export async function readSchemaFile(file: string): Promise<ModuleSpec[]> {
  const text = await readFile(file, 'utf8');
  const doc: unknown = file.toLowerCase().endsWith('.json') ? JSON.parse(text) : parseYaml(text);
  return parseSchemaDocument(doc);
}
