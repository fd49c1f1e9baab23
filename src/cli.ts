#!/usr/bin/env node
import { main } from './main.js';

const [command, ...rest] = process.argv.slice(2);

const usage = `usage: hanul start [--port N] [--host H] [--data-dir D] [--region R] … (see README: Configuration)\n`;

switch (command) {
  case 'start':
  case undefined:
    await main(rest);
    break;
  case '--help':
  case '-h':
  case 'help':
    process.stdout.write(usage);
    break;
  default:
    process.stderr.write(`hanul: unknown command '${command}'\n${usage}`);
    process.exit(2);
}
