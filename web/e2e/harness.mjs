// Shared pieces of the browser tests: free ports, the open-notebook server and Debian's chromium
// driven by playwright-core. Never downloads a browser.
import { spawn } from 'node:child_process';
import { existsSync, openSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';

export const CHROMIUM = '/usr/bin/chromium';

// The exit code ctest reads as "skipped" (SKIP_RETURN_CODE 77).
export const SKIP_EXIT_CODE = 77;

export function option(name, fallback) {
  const index = process.argv.indexOf(`--${name}`);
  return index >= 0 ? process.argv[index + 1] : fallback;
}

// Exits with SKIP_EXIT_CODE when chromium is missing, and with 1 naming the first missing file.
export function requireFiles(files) {
  if (!existsSync(CHROMIUM)) {
    console.log(`SKIP: ${CHROMIUM} is not installed; install the chromium package (scripts/install-deps.sh) to run the browser test`);
    process.exit(SKIP_EXIT_CODE);
  }
  for (const [what, path] of files) {
    if (!existsSync(path)) {
      console.error(`FAIL: the ${what} is missing: ${path}`);
      process.exit(1);
    }
  }
}

export function freePort() {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolvePort(port));
    });
  });
}

export async function waitForHealth(url, child, deadlineMs) {
  const deadline = Date.now() + deadlineMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`${child.spawnfile} exited with code ${child.exitCode} before ${url} answered`);
    try {
      const response = await fetch(url);
      if (response.ok) return;
    } catch {
      // Not listening yet.
    }
    await new Promise((done) => setTimeout(done, 200));
  }
  throw new Error(`${url} did not answer within ${deadlineMs / 1000} s`);
}

// Starts `binary serve` with its output in `logPath`; `env` is added to a minimal environment.
export function startServer({ binary, work, webDir, apiPort, uiPort, logPath, env = {} }) {
  const log = openSync(logPath, 'w');
  return spawn(binary, ['serve'], {
    env: {
      PATH: process.env.PATH,
      HOME: work,
      API_PORT: String(apiPort),
      FRONTEND_PORT: String(uiPort),
      OPEN_NOTEBOOK_DATA_DIR: join(work, 'data'),
      OPEN_NOTEBOOK_WEB_DIR: join(webDir, 'dist'),
      ASAN_OPTIONS: process.env.ASAN_OPTIONS ?? 'detect_leaks=1',
      ...env,
    },
    stdio: ['ignore', log, log],
  });
}

// Stops `child` with SIGTERM, and SIGKILL after 30 s. Returns its exit code.
export async function stopProcess(child) {
  if (child.exitCode === null && child.signalCode === null) {
    child.kill('SIGTERM');
    await new Promise((done) => {
      const timer = setTimeout(() => {
        child.kill('SIGKILL');
        done();
      }, 30_000);
      child.once('exit', () => {
        clearTimeout(timer);
        done();
      });
    });
  }
  return child.exitCode;
}

// Headless chromium with a fresh profile in `profileDir`, with the flags of every browser test.
export async function launchBrowser(profileDir, extraArgs = []) {
  process.env.PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD = '1';
  const { chromium } = await import('playwright-core');
  return chromium.launchPersistentContext(profileDir, {
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
      ...extraArgs,
    ],
    viewport: { width: 1400, height: 900 },
    locale: 'en-US',
  });
}

export function tail(path, lines = 60) {
  try {
    return readFileSync(path, 'utf8').split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}
