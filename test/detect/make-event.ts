import type { CommandEvent } from '../../src/sources/command-event.js';

/**
 * Builds a CommandEvent for rule tests. A string is split on single spaces (good enough for
 * test command lines without quoting); an array is used as argv as is.
 */
export function makeEvent(command: string | string[], overrides: Partial<CommandEvent> = {}): CommandEvent {
  const argv = typeof command === 'string' ? command.split(' ') : command;
  return {
    time: new Date('2024-05-01T12:00:00Z'),
    host: 'web-1',
    user: 'alice',
    loginUid: 1000,
    runAs: 'root',
    argv,
    command: argv.join(' '),
    exe: null,
    cwd: '/home/alice',
    pid: 4242,
    ppid: 4200,
    sourceFormat: 'auditd',
    eventKey: `web-1:${argv.join(' ').length}`,
    ...overrides,
  };
}

/** An event for `sh -c TEXT`, the way a piped or redirected command line reaches the audit log. */
export function shellEvent(text: string, overrides: Partial<CommandEvent> = {}, shell = 'sh'): CommandEvent {
  return makeEvent([shell, '-c', text], overrides);
}
