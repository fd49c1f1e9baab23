#!/usr/bin/env -S MALLOC_ARENA_MAX=2 node
// Launch settings (memory, not speed; see README "How node is started"): npm start
// execs the same line (package.json), spawnHanul reads this one (launchOf).
import { main } from './main.js';
import { CREATE_USER_USAGE, createUserCli } from './services/iam/cli.js';

const [command, ...rest] = process.argv.slice(2);

const usage = `usage: hanul start [--port N] [--host H] [--data-dir D] [--region R] … (see README: Configuration)\n${CREATE_USER_USAGE}`;

switch (command) {
  case 'start':
  case undefined:
    await main(rest);
    break;
  case 'create-user':
    process.exitCode = await createUserCli(rest, process.env, (s) => process.stdout.write(s));
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
