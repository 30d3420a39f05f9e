// Browser test of the podcasts page. The fake AI provider writes the outline and transcript of an
// episode about a page of the Debian FAQ, and espeak-ng speaks it. The episode is generated from
// the podcasts page, and its audio element must really play: time advances, no media error, and
// the duration the browser decodes matches the episode's.
//
//   node e2e/podcasts.mjs --binary ../build/open-notebook --fake-provider ../build/tests/fake_provider [--artifacts DIR]
//
// Exit codes: 0 passed, 1 failed, 77 skipped because /usr/bin/chromium is not installed.
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { freePort, launchBrowser, option, requireFiles, startServer, stopProcess, tail, waitForHealth } from './harness.mjs';

// A chapter of the Debian FAQ (package debian-faq).
const DOCUMENT = '/usr/share/doc/debian/FAQ/basic-defs.en.html';
const ESPEAK = '/usr/bin/espeak-ng';
// The seeded profile with one speaker and four segments, spoken by espeak-ng.
const PROFILE = 'solo_expert';
// The browser's decoded length may differ from the server's by a few MP3 frames.
const DURATION_TOLERANCE_S = 0.3;

const here = dirname(fileURLToPath(import.meta.url));
const webDir = resolve(here, '..');
const binary = option('binary', resolve(webDir, '../build/open-notebook'));
const fakeProvider = option('fake-provider', resolve(webDir, '../build/tests/fake_provider'));
const artifacts = resolve(option('artifacts', join(webDir, 'e2e-podcasts-artifacts')));
requireFiles([
  ['open-notebook binary', binary],
  ['fake provider (built with the tests)', fakeProvider],
  ['built web UI (run `make web`)', join(webDir, 'dist/index.html')],
  ['Debian FAQ page from debian-faq', DOCUMENT],
  ['espeak-ng program', ESPEAK],
]);

// Starts the fake provider on a free port and returns the child and its base URL.
async function startFakeProvider() {
  const child = spawn(fakeProvider, ['--port', '0'], { stdio: ['ignore', 'pipe', 'inherit'] });
  const lines = createInterface({ input: child.stdout });
  const first = await new Promise((done, reject) => {
    const timer = setTimeout(() => reject(new Error('the fake provider did not report its port within 10 s')), 10_000);
    lines.once('line', (line) => {
      clearTimeout(timer);
      done(line);
    });
    child.once('exit', (code) => reject(new Error(`the fake provider exited with code ${code}`)));
  });
  const match = /^listening (127\.0\.0\.1:\d+)$/.exec(first);
  if (!match) throw new Error(`unexpected first line from the fake provider: ${first}`);
  lines.on('line', () => {});
  return { child, url: `http://${match[1]}` };
}

rmSync(artifacts, { recursive: true, force: true });
mkdirSync(artifacts, { recursive: true });
const work = mkdtempSync(join(tmpdir(), 'on-e2e-podcasts-'));
const logPath = join(artifacts, 'server.log');
let fake;
let server;
let browser;
let page;
let step = 0;
async function shot(name) {
  step += 1;
  const file = join(artifacts, `${String(step).padStart(2, '0')}-${name}.png`);
  await page.screenshot({ path: file, fullPage: true });
  console.log(`step ${step}: ${name} (${file})`);
}

let failed = false;
try {
  fake = await startFakeProvider();
  const [apiPort, uiPort] = [await freePort(), await freePort()];
  server = startServer({
    binary,
    work,
    webDir,
    apiPort,
    uiPort,
    logPath,
    env: { OPENAI_COMPATIBLE_BASE_URL: `${fake.url}/v1`, OPEN_NOTEBOOK_ESPEAK_PROGRAM: ESPEAK },
  });
  const apiBase = `http://127.0.0.1:${apiPort}/api`;
  await waitForHealth(`http://127.0.0.1:${apiPort}/health`, server, 60_000);
  await waitForHealth(`http://127.0.0.1:${uiPort}/health`, server, 10_000);

  // Setup through the API: the fake chat model as the default, and a notebook with one real
  // document, processed before the upload returns.
  const call = async (path, init = {}) => {
    const response = await fetch(`${apiBase}${path}`, init);
    const body = await response.text();
    if (!response.ok) throw new Error(`${init.method ?? 'GET'} ${path} returned ${response.status}: ${body}`);
    return JSON.parse(body);
  };
  const postJson = (path, body, method = 'POST') =>
    call(path, { method, headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) });
  const chat = await postJson('/models', { name: 'fake-chat', provider: 'openai_compatible', type: 'language' });
  await postJson('/models/defaults', { default_chat_model: chat.id }, 'PUT');
  const notebook = await postJson('/notebooks', { name: 'Debian basics', description: 'A chapter of the Debian FAQ' });
  const form = new FormData();
  form.append('notebooks', JSON.stringify([notebook.id]));
  form.append('async_processing', 'false');
  form.append('type', 'upload');
  form.append('file', new Blob([readFileSync(DOCUMENT)], { type: 'text/html' }), basename(DOCUMENT));
  await call('/sources', { method: 'POST', body: form });

  browser = await launchBrowser(join(work, 'profile'), ['--autoplay-policy=no-user-gesture-required']);
  page = browser.pages()[0] ?? (await browser.newPage());
  const problems = [];
  page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
  page.on('console', (message) => {
    if (message.type() === 'error') problems.push(`console error: ${message.text()}`);
  });
  page.setDefaultTimeout(30_000);

  // The podcasts page starts empty.
  await page.goto(`http://127.0.0.1:${uiPort}/`);
  await page.getByRole('navigation').getByRole('link', { name: 'Podcasts', exact: true }).click();
  await page.getByText('No episodes yet').waitFor();
  await shot('podcasts-empty');

  // Generate an episode about the notebook with the one-speaker profile.
  await page.getByRole('button', { name: 'Generate episode' }).click();
  const dialog = page.getByRole('dialog');
  await dialog.getByLabel('Notebook').selectOption({ label: 'Debian basics' });
  await dialog.getByLabel('Episode profile').selectOption(PROFILE);
  await dialog.getByLabel('Episode name').fill('What is Debian');
  await shot('generate-dialog');
  await dialog.getByRole('button', { name: 'Generate', exact: true }).click();
  await dialog.waitFor({ state: 'detached' });

  // The episode shows up while it is generated and moves to "Ready" when it completes.
  const card = page.getByTestId('episode-card').filter({ hasText: 'What is Debian' });
  await card.waitFor();
  await shot('episode-generating');
  await page.waitForFunction(
    () => {
      const status = document.querySelector('[data-testid="episode-card"]')?.getAttribute('data-status');
      return status === 'completed' || status === 'failed' || status === 'cancelled';
    },
    null,
    { timeout: 300_000, polling: 500 },
  );
  const status = await card.getAttribute('data-status');
  if (status !== 'completed') throw new Error(`the episode did not complete: ${await card.innerText()}`);
  await page.getByRole('region', { name: 'Ready' }).waitFor();
  await card.getByText(/Transcript \(\d+ lines\)/).click();
  await shot('episode-ready');

  const [episode] = await call('/podcasts/episodes');
  const expectedSeconds = episode.duration_ms / 1000;
  if (!(expectedSeconds > 2)) throw new Error(`the episode is only ${expectedSeconds} s long`);

  // Play it: the audio element must decode the file, report its length and advance.
  const audio = card.getByTestId('episode-audio');
  await audio.waitFor();
  const played = await audio.evaluate(async (element, wantSeconds) => {
    const media = /** @type {HTMLAudioElement} */ (element);
    const started = performance.now();
    await media.play();
    while (media.currentTime < wantSeconds && !media.error && !media.ended && performance.now() - started < 30_000) {
      await new Promise((done) => setTimeout(done, 100));
    }
    const result = {
      currentTime: media.currentTime,
      duration: media.duration,
      error: media.error ? `${media.error.code} ${media.error.message}` : null,
      paused: media.paused,
      seekableEnd: media.seekable.length > 0 ? media.seekable.end(0) : 0,
    };
    media.pause();
    return result;
  }, Math.min(2, expectedSeconds / 2));
  console.log(`audio: ${JSON.stringify(played)}; episode: ${expectedSeconds} s`);
  await shot('episode-playing');
  if (played.error) throw new Error(`the audio element reported an error: ${played.error}`);
  if (!(played.currentTime >= Math.min(2, expectedSeconds / 2))) {
    throw new Error(`playback did not advance: currentTime is ${played.currentTime} s`);
  }
  if (!(Math.abs(played.duration - expectedSeconds) <= DURATION_TOLERANCE_S)) {
    throw new Error(`the browser decodes ${played.duration} s but the episode lasts ${expectedSeconds} s`);
  }
  // Chromium reports the whole file as seekable only when the server answers Range requests.
  if (!(Math.abs(played.seekableEnd - played.duration) <= DURATION_TOLERANCE_S)) {
    throw new Error(`only ${played.seekableEnd} s of ${played.duration} s are seekable`);
  }

  if (problems.length > 0) throw new Error(`the page reported errors:\n${problems.join('\n')}`);
  console.log(`PASS: ${step} steps; screenshots in ${artifacts}`);
} catch (error) {
  failed = true;
  console.error(`FAIL: ${error instanceof Error ? error.stack : error}`);
  if (page) await page.screenshot({ path: join(artifacts, 'failure.png'), fullPage: true }).catch(() => {});
} finally {
  await browser?.close().catch(() => {});
  if (server) {
    const code = await stopProcess(server);
    if (code !== 0 && code !== null) {
      failed = true;
      console.error(`FAIL: open-notebook exited with code ${code}`);
    }
  }
  if (fake) await stopProcess(fake.child);
  if (failed) console.error(`server log (${logPath}):\n${tail(logPath)}`);
  rmSync(work, { recursive: true, force: true });
}
process.exit(failed ? 1 : 0);
