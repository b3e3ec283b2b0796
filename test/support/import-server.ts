import { afterAll, beforeAll } from 'vitest';
import type { ConfigInput } from '../../src/config.js';
import { RawApi } from './api-client.js';
import { Importer } from './import-run.js';
import { RecordsApi } from './records-client.js';
import { startTestServer, type TestServer } from './server.js';

export interface ImportServer {
  readonly server: TestServer;
  readonly importer: Importer;
  readonly records: RecordsApi;
}

/** A server for a test file, started before its tests and closed after them, with its clients. */
export function useImportServer(input: ConfigInput = {}): ImportServer {
  let started: ImportServer | null = null;
  beforeAll(async () => {
    const server = await startTestServer(input);
    started = { server, importer: new Importer(new RawApi(server, server.token)), records: new RecordsApi(server, server.token) };
  });
  afterAll(async () => {
    await started?.server.close();
  });
  const get = (): ImportServer => {
    if (!started) throw new Error('the test server starts in beforeAll');
    return started;
  };
  return {
    get server() {
      return get().server;
    },
    get importer() {
      return get().importer;
    },
    get records() {
      return get().records;
    },
  };
}
