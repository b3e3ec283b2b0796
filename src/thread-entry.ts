import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/**
 * The compiled entry file of a worker thread, given the importing module's URL and the entry's
 * name beside it. Under the test runner the importing module is TypeScript in src/, and a thread
 * can only run JavaScript: it then runs the build in dist/.
 */
export function threadEntry(moduleUrl: string, file: string): URL {
  const sibling = new URL(`./${file}`, moduleUrl);
  if (existsSync(fileURLToPath(sibling))) return sibling;
  const at = moduleUrl.lastIndexOf('/src/');
  const built = new URL(`./${file}`, at < 0 ? moduleUrl : `${moduleUrl.slice(0, at)}/dist/${moduleUrl.slice(at + 5)}`);
  if (existsSync(fileURLToPath(built))) return built;
  throw new Error(`${file} runs in a worker thread and needs a build: run npm run build`);
}
