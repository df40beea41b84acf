// The GraphiQL playground in a real headless Chromium: it renders from the
// gateway's own assets, asks no other host for anything, runs a typed query
// and shows its result. Saves artifacts/playground.png.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { gatewayURL } from './gateway.mjs';

const executablePath = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const artifacts = new URL('./artifacts/', import.meta.url);
const query = '{ calls(first: 3) { edges { cursor node { id status } } } }';

// The first attempt ids, asked of /query directly, to look for on the page.
async function expectedIDs(base) {
  const res = await fetch(`${base}/query`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ query }),
  });
  const body = await res.json();
  assert.equal(body.errors, undefined, JSON.stringify(body.errors));
  return body.data.calls.edges.map((edge) => edge.node.id);
}

test('the playground runs a calls query with nothing fetched off-host', async (t) => {
  const base = gatewayURL();
  const origin = new URL(base).origin;
  const ids = await expectedIDs(base);
  assert.equal(ids.length, 3);

  const userDataDir = await mkdtemp(join(tmpdir(), 'playground-chromium-'));
  const context = await chromium.launchPersistentContext(userDataDir, {
    executablePath,
    headless: true,
    viewport: { width: 1400, height: 850 },
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--no-first-run',
    ],
  });
  t.after(async () => {
    // The browser first: it writes into its profile until it exits.
    await context.close();
    await rm(userDataDir, { recursive: true, force: true, maxRetries: 5 });
  });

  // Every request the page makes, and every one that would leave the
  // gateway's origin (those are aborted, so the page behaves as offline).
  const requests = [];
  const offHost = [];
  await context.route('**/*', (route) => {
    const url = new URL(route.request().url());
    if (url.origin === origin || url.protocol === 'data:' || url.protocol === 'blob:') {
      return route.continue();
    }
    offHost.push(url.href);
    return route.abort('blockedbyclient');
  });
  context.on('request', (req) => requests.push(req.url()));
  const problems = [];
  context.on('weberror', (err) => problems.push(`page error: ${err.error().message}`));

  const page = context.pages()[0] ?? (await context.newPage());
  page.on('console', (msg) => {
    if (msg.type() === 'error' || /Content.Security.Policy/i.test(msg.text())) {
      problems.push(`console ${msg.type()}: ${msg.text()}`);
    }
  });
  const introspected = page.waitForResponse((res) => res.url() === `${base}/query`
    && res.status() === 200 && (res.request().postData() ?? '').includes('__schema'), { timeout: 30_000 });
  const response = await page.goto(`${base}/`, { waitUntil: 'load' });
  assert.equal(response.status(), 200);
  assert.match(response.headers()['content-security-policy'], /script-src 'self';/);

  const operationEditor = page.locator('.graphiql-query-editor .monaco-editor').first();
  await operationEditor.waitFor({ state: 'visible', timeout: 30_000 });
  await introspected; // GraphiQL fetched the schema from /query

  // A fresh playground opens on a query that answers on the sandbox.
  const opened = await page.evaluate(() => globalThis.__MONACO.editor.getModels().map((m) => m.getValue()));
  assert.ok(opened.some((v) => v.includes('calls(first: 5, statuses: [COMPLETED])')),
    `the first tab holds ${JSON.stringify(opened)}`);

  await operationEditor.click();
  await page.keyboard.press('Control+A');
  await page.keyboard.press('Delete');
  await page.keyboard.type(query, { delay: 5 });
  await page.keyboard.press('Escape'); // close a suggestion list, if one is open
  const typed = await page.evaluate(() => {
    const models = globalThis.__MONACO.editor.getModels();
    return models.map((m) => m.getValue());
  });
  assert.ok(typed.includes(query), `the operation editor holds ${JSON.stringify(typed)}`);

  await page.locator('.graphiql-execute-button').click();
  const result = page.locator('.graphiql-response');
  await result.getByText('"edges"').first().waitFor({ timeout: 30_000 });
  await result.getByText(ids[0]).first().waitFor({ timeout: 10_000 });
  const resultText = await result.innerText();
  assert.doesNotMatch(resultText, /"errors"/);
  // Spread the query over lines so the screenshot shows all of it.
  await page.getByRole('button', { name: /^Prettify query/ }).click();
  await page.locator('.graphiql-query-editor').getByText('calls(first: 3)').waitFor({ timeout: 10_000 });

  await mkdir(artifacts, { recursive: true });
  await page.screenshot({ path: new URL('playground.png', artifacts).pathname, fullPage: true });

  for (const asset of ['graphiql.js', 'graphiql.css', 'editor.worker.js', 'graphql.worker.js', 'json.worker.js']) {
    assert.ok(requests.some((u) => u.startsWith(`${origin}/playground/assets/`) && u.endsWith(`/${asset}`)),
      `the page did not load ${asset} from the gateway`);
  }
  assert.deepEqual(offHost, [], `requests left the gateway's origin:\n${offHost.join('\n')}`);
  const foreign = requests.filter((u) => {
    const url = new URL(u);
    return url.origin !== origin && url.protocol !== 'data:' && url.protocol !== 'blob:';
  });
  assert.deepEqual(foreign, [], `requests to other hosts:\n${foreign.join('\n')}`);
  assert.deepEqual(problems, [], `the page reported problems:\n${problems.join('\n')}`);
});
