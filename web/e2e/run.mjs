// End-to-end test of the web UI: starts the fake AI provider and `open-notebook serve` on free
// ports with a fresh data directory, drives Debian's chromium through playwright-core as a new
// user would, and saves a screenshot of every step.
//
//   node e2e/run.mjs --binary ../build/open-notebook [--fake-provider ../build/tests/fake_provider]
//                    [--artifacts DIR]
//
// Exit codes: 0 passed, 1 failed, 77 skipped because /usr/bin/chromium is not installed (ctest
// reads 77 as "skipped"). Never downloads a browser.
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const CHROMIUM = '/usr/bin/chromium';
const PDF = '/usr/share/doc/texlive-doc/latex/base/clsguide.pdf';
const HTML = '/usr/share/doc/postgresql-doc-15/html/tutorial-select.html';
const here = dirname(fileURLToPath(import.meta.url));
const webDir = resolve(here, '..');

function option(name, fallback) {
  const index = process.argv.indexOf(`--${name}`);
  return index >= 0 ? process.argv[index + 1] : fallback;
}

if (!existsSync(CHROMIUM)) {
  console.log(`SKIP: ${CHROMIUM} is not installed; install the chromium package (scripts/install-deps.sh) to run the browser test`);
  process.exit(77);
}
const binary = option('binary', resolve(webDir, '../build/open-notebook'));
const fakeProvider = option('fake-provider', resolve(dirname(binary), 'tests/fake_provider'));
const artifacts = resolve(option('artifacts', join(webDir, 'e2e-artifacts')));
for (const [what, path] of [
  ['open-notebook binary', binary],
  ['fake AI provider (CMake target fake_provider)', fakeProvider],
  ['built web UI (run `make web`)', join(webDir, 'dist/index.html')],
  ['PDF from texlive-latex-base-doc', PDF],
  ['HTML page from postgresql-doc-15', HTML],
]) {
  if (!existsSync(path)) {
    console.error(`FAIL: the ${what} is missing: ${path}`);
    process.exit(1);
  }
}
process.env.PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD = '1';
const { chromium } = await import('playwright-core');

function freePort() {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolvePort(port));
    });
  });
}

// Starts the fake provider on a free port and returns the child and its base URL, read from its
// first output line "listening 127.0.0.1:<port>".
function startFakeProvider(logFd) {
  return new Promise((resolveStart, reject) => {
    const child = spawn(fakeProvider, ['--port', '0'], { stdio: ['ignore', 'pipe', logFd] });
    let output = '';
    const timer = setTimeout(() => reject(new Error('the fake provider did not report its port within 10 s')), 10_000);
    child.once('exit', (code) => reject(new Error(`the fake provider exited with code ${code} before it listened`)));
    child.stdout.on('data', (data) => {
      output += data;
      const match = /listening 127\.0\.0\.1:(\d+)/.exec(output);
      if (match) {
        clearTimeout(timer);
        child.stdout.resume();
        resolveStart({ child, baseUrl: `http://127.0.0.1:${match[1]}` });
      }
    });
  });
}

async function apiRequest(apiPort, method, path, body) {
  const response = await fetch(`http://127.0.0.1:${apiPort}${path}`, {
    method,
    headers: { 'Content-Type': 'application/json', Accept: 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  if (!response.ok) throw new Error(`${method} ${path} returned ${response.status}: ${text}`);
  return JSON.parse(text);
}

async function waitForHealth(url, child, deadlineMs) {
  const deadline = Date.now() + deadlineMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`open-notebook exited with code ${child.exitCode} before ${url} answered`);
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

rmSync(artifacts, { recursive: true, force: true });
mkdirSync(artifacts, { recursive: true });
const work = mkdtempSync(join(tmpdir(), 'on-e2e-'));
const [apiPort, uiPort] = [await freePort(), await freePort()];
const logPath = join(artifacts, 'server.log');
const log = openSync(logPath, 'w');
const fake = await startFakeProvider(openSync(join(artifacts, 'fake-provider.log'), 'w'));
const server = spawn(binary, ['serve'], {
  env: {
    PATH: process.env.PATH,
    OPENAI_COMPATIBLE_BASE_URL: `${fake.baseUrl}/v1`,
    HOME: work,
    API_PORT: String(apiPort),
    FRONTEND_PORT: String(uiPort),
    OPEN_NOTEBOOK_DATA_DIR: join(work, 'data'),
    OPEN_NOTEBOOK_WEB_DIR: join(webDir, 'dist'),
    ASAN_OPTIONS: process.env.ASAN_OPTIONS ?? 'detect_leaks=1',
  },
  stdio: ['ignore', log, log],
});

let browser;
let step = 0;
let page;
async function shot(name) {
  step += 1;
  const file = join(artifacts, `${String(step).padStart(2, '0')}-${name}.png`);
  await page.screenshot({ path: file, fullPage: true });
  console.log(`step ${step}: ${name} (${file})`);
}

let failed = false;
try {
  await waitForHealth(`http://127.0.0.1:${apiPort}/health`, server, 60_000);
  await waitForHealth(`http://127.0.0.1:${uiPort}/health`, server, 10_000);
  // The chat model is the fake provider's. It is registered through the API because the browser
  // steps are about notebooks, sources and chat.
  const model = await apiRequest(apiPort, 'POST', '/api/models', { name: 'fake-chat', provider: 'openai_compatible', type: 'language' });
  await apiRequest(apiPort, 'PUT', '/api/models/defaults', { default_chat_model: model.id });

  browser = await chromium.launchPersistentContext(join(work, 'profile'), {
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
    viewport: { width: 1400, height: 900 },
    locale: 'en-US',
  });
  page = browser.pages()[0] ?? (await browser.newPage());
  const problems = [];
  page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
  page.on('console', (message) => {
    // The browser logs "Failed to load resource" for every error response, including those the UI
    // handles and shows (a 404 of a route an older server lacks), so only other errors count.
    if (message.type() === 'error' && !message.text().startsWith('Failed to load resource')) {
      problems.push(`console error: ${message.text()}`);
    }
  });
  page.setDefaultTimeout(30_000);

  // A new user lands on an empty list of notebooks.
  await page.goto(`http://127.0.0.1:${uiPort}/`);
  await page.getByRole('heading', { name: 'Notebooks', exact: true }).waitFor();
  await page.getByText('No notebooks yet').waitFor();
  await shot('empty-notebooks');

  // Create a notebook; the UI opens it.
  await page.getByRole('button', { name: 'New notebook' }).click();
  await page.getByRole('dialog').getByLabel('Name').fill('Databases and LaTeX');
  await page.getByRole('dialog').getByLabel('Description').fill('Reading for the end-to-end test');
  await page.getByRole('dialog').getByRole('button', { name: 'Create' }).click();
  await page.getByRole('heading', { name: 'Databases and LaTeX', exact: true }).waitFor();
  await shot('notebook-created');

  // Upload a real PDF and a real HTML page in one go, then wait for both to be processed.
  await page.getByRole('button', { name: 'Add source' }).click();
  const dialog = page.getByRole('dialog');
  await dialog.getByRole('radio', { name: 'Files' }).click();
  await dialog.getByTestId('source-files').setInputFiles([PDF, HTML]);
  await dialog.getByText('2 files chosen').waitFor();
  // The dialog ticks the transformations marked for new sources. The test leaves them out, so that
  // the sources have no insights and chat sends and cites passages of their full text.
  const transformationBoxes = dialog.getByRole('group', { name: /Transformations to run/ }).getByRole('checkbox');
  await transformationBoxes.first().waitFor();
  for (const box of await transformationBoxes.all()) await box.uncheck();
  await shot('add-sources');
  await dialog.getByRole('button', { name: 'Add', exact: true }).click();
  await dialog.waitFor({ state: 'detached' });
  const cards = page.getByTestId('source-card');
  await cards.nth(1).waitFor();
  await page.waitForFunction(
    () => {
      const statuses = [...document.querySelectorAll('[data-testid="source-status"]')].map((node) => node.getAttribute('data-status'));
      if (statuses.includes('failed')) return true;
      return statuses.length === 2 && statuses.every((status) => status === 'completed');
    },
    null,
    { timeout: 240_000, polling: 500 },
  );
  const statuses = await page.getByTestId('source-status').evaluateAll((nodes) => nodes.map((node) => node.getAttribute('data-status')));
  await shot('sources-processed');
  if (!statuses.every((status) => status === 'completed')) {
    throw new Error(`a source failed to process: ${await cards.allInnerTexts()}`);
  }

  // Open the PDF's detail page: its extracted text is there.
  await cards.filter({ hasText: /clsguide|LaTeX|class/i }).first().getByRole('link').click();
  await page.getByTestId('source-content').filter({ hasText: 'docstrip' }).waitFor();
  await shot('source-detail');
  await page.goBack();

  // Keyword search finds words from both documents.
  await page.getByRole('navigation').getByRole('link', { name: 'Search', exact: true }).click();
  await page.getByLabel('Search text').fill('docstrip');
  await page.getByRole('button', { name: 'Search', exact: true }).click();
  await page.getByTestId('search-result').first().waitFor();
  await shot('search-pdf');
  await page.getByLabel('Search text').fill('weather');
  await page.getByRole('button', { name: 'Search', exact: true }).click();
  await page.getByTestId('search-result').filter({ hasText: /Querying a Table|tutorial-select/i }).first().waitFor();
  await shot('search-html');

  // The system page reports the server's version and an online database, in the dark theme.
  await page.getByRole('navigation').getByRole('link', { name: 'System', exact: true }).click();
  await page.getByTestId('version').filter({ hasText: /^\d+\.\d+\.\d+/ }).waitFor();
  await page.getByText('Online', { exact: true }).waitFor();
  await page.getByRole('button', { name: 'Theme' }).click();
  if (!(await page.evaluate(() => document.documentElement.classList.contains('dark')))) throw new Error('the theme button did not switch to dark');
  await shot('system-dark');
  await page.getByRole('button', { name: 'Theme' }).click();

  // Write a note in Markdown and see it listed.
  await page.getByRole('navigation').getByRole('link', { name: 'Notebooks', exact: true }).click();
  await page.getByRole('link', { name: 'Databases and LaTeX' }).click();
  await page.getByRole('button', { name: 'New note' }).click();
  await page.getByRole('dialog').getByLabel('Title').fill('What to read first');
  await page.getByRole('dialog').getByLabel('Note in Markdown').fill('# Plan\n\n- the **SELECT** tutorial\n- the class guide');
  await page.getByRole('dialog').getByRole('button', { name: 'Preview' }).click();
  await page.getByRole('dialog').locator('.markdown h1', { hasText: 'Plan' }).waitFor();
  await shot('note-preview');
  await page.getByRole('dialog').getByRole('button', { name: 'Save' }).click();
  await page.getByTestId('note-card').filter({ hasText: 'What to read first' }).waitFor();
  await shot('note-saved');

  // Chat. Both documents in full (about 24,000 tokens) do not fit the default context window of
  // 16,384 tokens: the column shows a warning and keeps Send disabled. The reader leaves the PDF
  // out, and the count drops.
  const chat = page.getByRole('region', { name: 'Chat' });
  const tokenCount = chat.getByTestId('token-count');
  await tokenCount.waitFor();
  const tokensOf = async () => Number((await tokenCount.innerText()).match(/Context: ([\d,]+)/)[1].replace(/,/g, ''));
  const allTokens = await tokensOf();
  await chat.getByRole('alert').filter({ hasText: "larger than the model's context window" }).waitFor();
  await chat.getByLabel('Question').fill('Which documents are here?');
  if (!(await chat.getByRole('button', { name: 'Send' }).isDisabled())) {
    throw new Error('Send is enabled while the context is larger than the window');
  }
  await chat.getByRole('button', { name: 'Choose context' }).click();
  const pdfContext = chat.getByTestId('context-panel').getByRole('combobox', { name: /clsguide|LaTeX|class/i }).first();
  await pdfContext.selectOption('not in');
  await page.waitForFunction(
    ([before]) => {
      const text = document.querySelector('[data-testid="token-count"]')?.textContent ?? '';
      const tokens = Number((/Context: ([\d,]+)/.exec(text)?.[1] ?? '0').replace(/,/g, ''));
      return tokens > 0 && tokens < before;
    },
    [allTokens],
  );
  const htmlTokens = await tokensOf();
  await chat.getByRole('alert').waitFor({ state: 'detached' });
  await shot('chat-context');

  // Ask a question. An observer installed before sending records the answer while it streams in.
  // Then the stored answer with its citations replaces it.
  await page.evaluate(() => {
    window.__sawStreamingAnswer = false;
    new MutationObserver(() => {
      const draft = document.querySelector('[data-testid="chat-answer"][data-streaming="true"]');
      if (draft && /\w/.test(draft.textContent ?? '')) window.__sawStreamingAnswer = true;
    }).observe(document.body, { subtree: true, childList: true, characterData: true });
  });
  await chat.getByLabel('Question').fill('How do I retrieve all the rows of the weather table?');
  await chat.getByRole('button', { name: 'Send' }).click();
  const answer = chat.getByTestId('chat-answer').filter({ hasText: 'From the context' }).last();
  await answer.waitFor();
  await answer.getByTestId('citation').first().waitFor();
  await page.locator('[data-testid="chat-answer"][data-streaming="true"]').waitFor({ state: 'detached' });
  if (!(await page.evaluate(() => window.__sawStreamingAnswer))) throw new Error('the answer was not shown while it streamed');
  await shot('chat-answer');

  // The first citation opens its passage, which is in the HTML page.
  await answer.getByTestId('citation').first().click();
  const passageDialog = page.getByRole('dialog');
  await passageDialog.getByTestId('cited-passage').filter({ hasText: /weather/i }).waitFor();
  await shot('cited-passage');

  // From there, the source page with the passage highlighted.
  await passageDialog.getByRole('link', { name: 'Open the source at this passage' }).click();
  const highlighted = page.locator('mark[data-testid="cited-passage"]');
  await highlighted.filter({ hasText: /weather/i }).waitFor();
  const inView = await highlighted.evaluate((node) => {
    const box = node.getBoundingClientRect();
    const pane = node.closest('pre').getBoundingClientRect();
    return box.top < Math.min(pane.bottom, window.innerHeight) && box.bottom > Math.max(pane.top, 0);
  });
  if (!inView) throw new Error('the highlighted passage is not scrolled into view');
  await shot('cited-source');
  await page.goBack();
  await page.getByRole('heading', { name: 'Databases and LaTeX', exact: true }).waitFor();
  console.log(`chat context: ${allTokens} tokens with both documents, ${htmlTokens} with the HTML page and the note`);

  // Ask the same question on the search page, scoped to the notebook: a plan, a cited answer, and
  // the answer saved as a note of the notebook.
  await page.getByRole('navigation').getByRole('link', { name: 'Search', exact: true }).click();
  await page.getByRole('tab', { name: 'Ask' }).click();
  await page.getByLabel('Notebook', { exact: true }).selectOption({ label: 'Databases and LaTeX' });
  await page.getByLabel('Question').fill('How do I retrieve all the rows of the weather table?');
  await page.getByRole('button', { name: 'Ask', exact: true }).click();
  const askAnswer = page.getByTestId('ask-answer');
  await askAnswer.getByTestId('citation').first().waitFor({ timeout: 120_000 });
  await askAnswer.getByTestId('citation').first().click();
  await page.getByRole('dialog').getByTestId('cited-passage').filter({ hasText: /weather/i }).waitFor();
  await page.keyboard.press('Escape');
  await askAnswer.getByRole('button', { name: 'Save answer as note' }).click();
  await askAnswer.getByRole('button', { name: 'Saved as a note' }).waitFor();
  await shot('ask-answer');
  await page.getByRole('navigation').getByRole('link', { name: 'Notebooks', exact: true }).click();
  await page.getByRole('link', { name: 'Databases and LaTeX' }).click();
  await page.getByTestId('note-card').filter({ hasText: 'How do I retrieve all the rows' }).waitFor();

  // Switch to Simplified Chinese: the same page, translated.
  await page.getByTestId('language-switcher').selectOption('zh-CN');
  await page.getByRole('heading', { name: '资料', exact: true }).waitFor();
  await page.getByRole('button', { name: '新建笔记' }).waitFor();
  await page.getByRole('navigation').getByRole('link', { name: '笔记本', exact: true }).waitFor();
  const lang = await page.evaluate(() => document.documentElement.lang);
  if (lang !== 'zh-CN') throw new Error(`<html lang> is ${lang} after switching to Chinese`);
  await shot('chinese');
  // The choice survives a reload.
  await page.reload();
  await page.getByRole('heading', { name: '资料', exact: true }).waitFor();

  if (problems.length > 0) throw new Error(`the page reported errors:\n${problems.join('\n')}`);
  console.log(`PASS: ${step} steps; screenshots in ${artifacts}`);
} catch (error) {
  failed = true;
  console.error(`FAIL: ${error instanceof Error ? error.stack : error}`);
  if (page) await page.screenshot({ path: join(artifacts, 'failure.png'), fullPage: true }).catch(() => {});
} finally {
  await browser?.close().catch(() => {});
  if (server.exitCode === null) {
    server.kill('SIGTERM');
    await new Promise((done) => {
      const timer = setTimeout(() => {
        server.kill('SIGKILL');
        done();
      }, 30_000);
      server.once('exit', () => {
        clearTimeout(timer);
        done();
      });
    });
  }
  if (fake.child.exitCode === null) fake.child.kill('SIGTERM');
  if (server.exitCode !== 0 && server.exitCode !== null) {
    failed = true;
    console.error(`FAIL: open-notebook exited with code ${server.exitCode}`);
  }
  if (failed) console.error(`server log (${logPath}):\n${readFileSync(logPath, 'utf8').split('\n').slice(-60).join('\n')}`);
  rmSync(work, { recursive: true, force: true });
}
process.exit(failed ? 1 : 0);
