#!/usr/bin/env node
import { Command } from 'commander';
import { describeFailure } from './cli-exit.js';
import { clientCommand } from './client-command.js';
import { fieldCommand } from './field-command.js';
import { migrateCommand } from './migrate-command.js';
import { importCommand } from './import-command.js';
import { jobCommand } from './job-command.js';
import { jobsCommand } from './jobs-command.js';
import { resultCommand } from './result-command.js';
import { serveCommand } from './serve-command.js';
import { tokenCommand } from './token-command.js';
import { workerCommand } from './worker-command.js';

const program = new Command('bulkwright')
  .description('A self-hostable twin of Zoho CRM Bulk Write API v2.1')
  // Commander's own errors (unknown command) become CommanderErrors: exit 2, as usage errors.
  .exitOverride()
  .addCommand(serveCommand())
  .addCommand(workerCommand())
  .addCommand(migrateCommand())
  .addCommand(importCommand())
  .addCommand(jobCommand())
  .addCommand(resultCommand())
  .addCommand(jobsCommand())
  .addCommand(tokenCommand())
  .addCommand(fieldCommand())
  .addCommand(clientCommand());

program.parseAsync(process.argv).catch((e: unknown) => {
  const { code, message } = describeFailure(e);
  if (message !== null) process.stderr.write(`bulkwright: ${message}\n`);
  process.exit(code);
});
