import { Command, Option, type CommanderError } from 'commander';
import type { VouchConfig } from '../config/config.js';
import { VouchError, coerceError } from '../errors.js';
import { REPORT_FORMATS } from '../review/report-formats.js';
import { WrongFormatError } from './wrong-format-error.js';

// Commands are loaded when run: `scan` then starts without the service's Slack, Duo and database
// modules, nor the configuration loader and its YAML parser (start-up and memory it does not
// need). Only what every command's definition needs is imported above.

/** Loads the configuration (sandbox or live decided on all of it); its modules are imported on first use. */
async function loadConfig(options: { file?: string; sandbox?: boolean }): Promise<VouchConfig> {
  const { loadConfig: load } = await import('../config/load-config.js');
  return load(options);
}

const USAGE_ERROR_EXIT_CODE = 2;

/**
 * Usage errors exit with code 2, as configuration errors do: code 1 means the input was wrong (a
 * log in another format), and commander would use it for both. Help still exits with 0.
 * Commands defined below inherit this, so it is set before any of them.
 */
function exitOnUsageError(error: CommanderError): never {
  process.exit(error.exitCode === 0 ? 0 : USAGE_ERROR_EXIT_CODE);
}

const program = new Command('vouch')
  .description('Asks engineers whether the suspicious commands they ran were them, and why; confirms with Duo; keeps every answer.')
  .showHelpAfterError()
  .exitOverride(exitOnUsageError);

interface ReportCommandLine {
  since?: string;
  until?: string;
  status?: string;
  user?: string;
  host?: string;
  rule?: string;
  severity?: string;
  unreviewed?: boolean;
  limit?: string;
  format: string;
  config?: string;
}

const configOption = () => new Option('-c, --config <file>', 'YAML configuration file (default: $VOUCH_CONFIG)');

program
  .command('start')
  .description('run the service: ingest sources, converse on Slack, verify with Duo (or try it on simulators with --sandbox)')
  .addOption(configOption())
  .option('--sandbox', 'run on the built-in Slack and Duo simulators, on loopback (also VOUCH_SANDBOX=1)')
  .action(async (options: { config?: string; sandbox?: boolean }) => {
    const config = await loadConfig({ file: options.config, sandbox: options.sandbox === true });
    const { createLogger } = await import('../logger.js');
    const logger = createLogger();
    const { startService } = await import('../service.js');
    const service = await startService({ config, logger });
    if (service.sandbox) {
      // Keys of a deployment set beside an explicit --sandbox: it builds its own Slack, Duo and SSO and reads none of them.
      const unused = config.liveOnlyKeys.map(({ key }) => key);
      process.stdout.write(
        `\nVouch sandbox is running: open ${service.url}/sandbox\n` +
          `Review the answers at ${service.url}/review (sign in as Dana, a reviewer, or Erin, an admin).\n` +
          `(Slack, Duo and the SSO are simulated${unused.length > 0 ? `; ${unused.join(', ')} ${unused.length === 1 ? 'is' : 'are'} set but not used by the sandbox` : ''}; see README.md to go live.)\n\n`,
      );
    }
    let stopping = false;
    const stop = async (signal: string) => {
      if (stopping) return;
      stopping = true;
      logger.info('stopping', { signal });
      await service.stop();
      process.exit(0);
    };
    process.on('SIGINT', () => void stop('SIGINT'));
    process.on('SIGTERM', () => void stop('SIGTERM'));
  });

program
  .command('migrate')
  .description('apply pending database migrations')
  .addOption(configOption())
  .action(async (options: { config?: string }) => {
    const config = await loadConfig({ file: options.config });
    const { migrateCommand } = await import('./migrate-command.js');
    process.stdout.write(await migrateCommand(config));
  });

program
  .command('scan')
  .description('parse an audit log and print the commands that match the rules (all commands with --all)')
  .argument('<file>', 'log file to read ("-" for standard input)')
  .option('-f, --format <format>', 'log format, or auto to detect it', 'auto')
  .option('--all', 'print every command, not only rule hits')
  .option('--json', 'one JSON object per command')
  .option('--rules <file>', 'rule file to use instead of the configured one')
  .option('--no-redact', 'print passwords, tokens and keys in commands as they are (redacted by default)')
  .addOption(configOption())
  .action(async (file: string, options: { format: string; all?: boolean; json?: boolean; rules?: string; config?: string; redact: boolean }) => {
    const { scanCommand } = await import('./scan-command.js');
    const summary = await scanCommand(file, options);
    process.stderr.write(summary);
  });

program
  .command('ingest')
  .description('backfill a historic log into the database (alerts are created as for live logs)')
  .argument('<file>', 'log file to read')
  .option('-f, --format <format>', 'log format, or auto to detect it', 'auto')
  .option('--source <name>', 'source name to record the events under', 'backfill')
  .addOption(configOption())
  .action(async (file: string, options: { format: string; source: string; config?: string }) => {
    const config = await loadConfig({ file: options.config });
    const { ingestCommand } = await import('./ingest-command.js');
    process.stdout.write(await ingestCommand(config, file, options));
  });

const rules = program.command('rules').description('work with detection rules');
rules
  .command('test')
  .description('replay a log through the rules: hits per rule with sample commands')
  .argument('<file>', 'log file to replay')
  .option('-f, --format <format>', 'log format, or auto to detect it', 'auto')
  .option('--rules <file>', 'rule file to test (default: the configured rules or the default pack)')
  .option('--samples <n>', 'sample commands per rule', '3')
  .option('--json', 'print the result as JSON')
  .addOption(configOption())
  .action(async (file: string, options: { format: string; rules?: string; samples: string; json?: boolean; config?: string }) => {
    const { rulesTestCommand } = await import('./rules-command.js');
    process.stdout.write(await rulesTestCommand(file, options));
  });

program
  .command('report')
  .description('print the audit report of alerts and their answers')
  .option('--since <time>', 'from this time (ISO date/time, or a duration back from now such as 24h or 7d)')
  .option('--until <time>', 'up to this time (same forms as --since)')
  .option('--status <status>', 'only these statuses (comma-separated): new, asked, verifying, verified, escalated, suppressed')
  .option('--user <login>', 'only alerts about this login user')
  .option('--host <glob>', 'only alerts on hosts matching this glob (* any run of characters, ? one), e.g. "web-*"')
  .option('--rule <id>', 'only alerts of this rule')
  .option('--severity <severity>', 'only these severities (comma-separated): low, medium, high, critical')
  .option('--unreviewed', 'only alerts no reviewer has marked reviewed yet')
  .option('--limit <n>', 'at most this many alerts')
  .addOption(new Option('--format <format>', 'output format').choices([...REPORT_FORMATS]).default('table'))
  .addOption(configOption())
  .action(async (options: ReportCommandLine) => {
    const config = await loadConfig({ file: options.config });
    const { reportCommand } = await import('./report-command.js');
    process.stdout.write(await reportCommand(config, { ...options, reviewed: options.unreviewed ? 'false' : undefined }));
  });

const secondFactor = program.command('second-factor').description('Duo pushes: resume them after a fraud report');
secondFactor
  .command('resume')
  .description('resume pushes to a person (login or Duo username) paused after they reported a push as fraud')
  .argument('<login>', 'the login (or Duo username) whose pushes are paused')
  .requiredOption('--by <reviewer>', 'who resumes them (recorded in the audit trail)')
  .option('--note <text>', 'why, for the audit trail')
  .addOption(configOption())
  .action(async (login: string, options: { by?: string; note?: string; config?: string }) => {
    const config = await loadConfig({ file: options.config });
    const { resumeCommand } = await import('./second-factor-command.js');
    process.stdout.write(await resumeCommand(config, login, options));
  });

program
  .command('doctor')
  .description('check the configuration, database, audit trail, rules, Slack and Duo')
  .addOption(configOption())
  .action(async (options: { config?: string }) => {
    const config = await loadConfig({ file: options.config });
    const { doctorCommand } = await import('./doctor-command.js');
    const { text, ok } = await doctorCommand(config);
    process.stdout.write(text);
    if (!ok) process.exitCode = 1;
  });

program.parseAsync(process.argv).catch((thrown: unknown) => {
  const error = coerceError(thrown);
  // A log in the wrong format is the input's fault, not the command line's: exit code 1, not 2.
  if (error instanceof WrongFormatError) {
    process.stderr.write(`error: ${error.message}\n`);
    process.exit(error.exitCode);
  }
  // Known errors carry a message written for the operator; anything else shows its stack.
  process.stderr.write(`vouch: ${error instanceof VouchError ? error.message : (error.stack ?? error.message)}\n`);
  process.exit(error instanceof VouchError ? 2 : 1);
});
