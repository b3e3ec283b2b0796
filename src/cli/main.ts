#!/usr/bin/env node
import { Command } from 'commander';
import { clientCommand } from './client-command.js';
import { fieldCommand } from './field-command.js';
import { serveCommand } from './serve-command.js';
import { tokenCommand } from './token-command.js';

const program = new Command('bulkwright')
  .description('A self-hostable twin of Zoho CRM Bulk Write API v2.1')
  .addCommand(serveCommand())
  .addCommand(tokenCommand())
  .addCommand(fieldCommand())
  .addCommand(clientCommand());

program.parseAsync(process.argv).catch((e: unknown) => {
  process.stderr.write(`bulkwright: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exit(e instanceof UsageError ? 2 : 1);
});

class UsageError extends Error {}
