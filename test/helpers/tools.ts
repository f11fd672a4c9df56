/**
 * The outside programs some suites drive, all Debian packages: astropy and pyvo for
 * /usr/bin/python3, and STILTS. Every suite that needs one declares it with describeWith, which
 * behaves one way everywhere:
 *   - the tools are present: the tests run;
 *   - one is missing and CI is set (CI=true): the suite fails, naming the tool and the command
 *     that installs it, so a green CI run means every suite ran;
 *   - one is missing otherwise: the suite is skipped with a loud message.
 * `npm test` installs them first (scripts/prerequisites.sh test); this matters for `npx jest`.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { PYTHON } from './python';

export type Tool = 'astropy' | 'pyvo' | 'stilts';

interface ToolInfo {
  /** What is missing, for the message. */
  readonly what: string;
  /** The Debian package that provides it. */
  readonly debian: string;
  readonly present: () => boolean;
}

function pythonImports(modules: string): boolean {
  return spawnSync(PYTHON, ['-c', `import ${modules}`], { stdio: 'ignore', timeout: 60_000 }).status === 0;
}

function onPath(command: string): boolean {
  return (process.env.PATH ?? '').split(path.delimiter).some((dir) => {
    try {
      fs.accessSync(path.join(dir || '.', command), fs.constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
}

const TOOLS: Readonly<Record<Tool, ToolInfo>> = {
  astropy: {
    what: `astropy (with numpy) for ${PYTHON}`,
    debian: 'python3-astropy',
    present: () => pythonImports('astropy.io.fits, astropy.wcs, numpy'),
  },
  pyvo: { what: `pyvo for ${PYTHON}`, debian: 'python3-pyvo', present: () => pythonImports('pyvo') },
  stilts: { what: 'STILTS (`stilts` on the PATH)', debian: 'stilts', present: () => onPath('stilts') },
};

const known = new Map<Tool, boolean>();

/** Whether `tool` is installed (looked up once per test file). */
export function hasTool(tool: Tool): boolean {
  let present = known.get(tool);
  if (present === undefined) known.set(tool, (present = TOOLS[tool].present()));
  return present;
}

/** CI=true (or 1): a missing tool fails the run instead of skipping. */
export function inCi(): boolean {
  return /^(true|1)$/i.test(process.env.CI?.trim() ?? '');
}

/** The one-line explanation of what is missing and how to install it. */
export function missingToolsMessage(suite: string, missing: readonly Tool[]): string {
  const packages = missing.map((tool) => TOOLS[tool].debian).join(' ');
  return (
    `"${suite}" needs ${missing.map((tool) => TOOLS[tool].what).join(' and ')}: not installed. ` +
    `Install with: sudo apt-get install -y ${packages} (or run: bash scripts/prerequisites.sh test)`
  );
}

/**
 * describe(name, body) for a suite that needs `tools`. Missing: with CI set, one failing test
 * that says what to install (the body is not run); without, describe.skip and a loud warning.
 */
export function describeWith(tools: Tool | readonly Tool[], name: string, body: () => void): void {
  const missing = ([] as Tool[]).concat(tools).filter((tool) => !hasTool(tool));
  if (missing.length === 0) {
    describe(name, body);
    return;
  }
  const message = missingToolsMessage(name, missing);
  if (inCi()) {
    describe(name, () => {
      test(`needs ${missing.join(' and ')}`, () => {
        const error = new Error(`CI=true and a tool is missing: ${message}`);
        error.stack = error.message; // the message says it all; no code frame of this helper
        throw error;
      });
    });
    return;
  }
  // Straight to stderr: Jest drops the console output of a file whose tests were all skipped.
  process.stderr.write(`\n!!! SKIPPED: ${message}. With CI=true this suite fails instead.\n\n`);
  describe.skip(name, body);
}
