// The playground runs subscriptions: in a real headless Chromium, GraphiQL
// starts `callUpdated` on a call placed in the sandbox (its clock sped up by
// run.sh) and its result pane shows the call's successive states as they
// come, over a WebSocket to the gateway. Saves artifacts/playground-subscription.png.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { gatewayURL, sandboxURL } from './gateway.mjs';

const executablePath = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const artifacts = new URL('./artifacts/', import.meta.url);
// The order statuses of a placed call's life, in order.
const LIFE = ['QUEUED_FOR_CALLING', 'CALLING', 'COMPLETED'];

async function place() {
  const res = await fetch(`${sandboxURL()}/call`, {
    method: 'POST',
    headers: { authorization: 'Bearer sk_sandbox_demo', 'content-type': 'application/json' },
    body: JSON.stringify({ phone_number: '+14155550123', assistant: { prompt: 'Say hello, then goodbye.' } }),
  });
  assert.equal(res.status, 200, await res.clone().text());
  return (await res.json()).call.id;
}

test('the playground follows a placed call with a callUpdated subscription', async (t) => {
  const base = gatewayURL();
  const userDataDir = await mkdtemp(join(tmpdir(), 'playground-chromium-'));
  const context = await chromium.launchPersistentContext(userDataDir, {
    executablePath,
    headless: true,
    viewport: { width: 1400, height: 850 },
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run'],
  });
  t.after(async () => {
    await context.close();
    await rm(userDataDir, { recursive: true, force: true, maxRetries: 5 });
  });
  const problems = [];
  context.on('weberror', (err) => problems.push(`page error: ${err.error().message}`));
  const sockets = [];
  const page = context.pages()[0] ?? (await context.newPage());
  page.on('websocket', (ws) => sockets.push(ws.url()));
  page.on('response', (res) => {
    if (res.status() >= 400) problems.push(`HTTP ${res.status()} for ${res.url()}`);
  });
  page.on('console', (msg) => {
    if (msg.location()?.url?.endsWith('/favicon.ico')) return; // the gateway serves none
    if (msg.type() === 'error' || /Content.Security.Policy/i.test(msg.text())) {
      problems.push(`console ${msg.type()}: ${msg.text()} (${msg.location()?.url})`);
    }
  });
  const introspected = page.waitForResponse((res) => res.url() === `${base}/query`
    && res.status() === 200 && (res.request().postData() ?? '').includes('__schema'), { timeout: 30_000 });
  assert.equal((await page.goto(`${base}/`, { waitUntil: 'load' })).status(), 200);
  const operationEditor = page.locator('.graphiql-query-editor .monaco-editor').first();
  await operationEditor.waitFor({ state: 'visible', timeout: 30_000 });
  await introspected;

  const id = await place();
  const subscription = `subscription { callUpdated(id: "${id}") { id status } }`;
  await operationEditor.click();
  await page.keyboard.press('Control+A');
  await page.keyboard.press('Delete');
  await page.keyboard.type(subscription, { delay: 2 });
  await page.keyboard.press('Escape');
  // Spread the operation over lines so the screenshot shows all of it.
  await page.getByRole('button', { name: /^Prettify query/ }).click();
  await page.locator('.graphiql-query-editor').getByText('callUpdated(id:').waitFor({ timeout: 10_000 });
  await page.locator('.graphiql-execute-button').click();

  // Read the result pane as events arrive; keep each status once, in order.
  const result = page.locator('.graphiql-response');
  const seen = [];
  for (let i = 0; i < 600 && !seen.includes('COMPLETED'); i++) {
    const text = await result.innerText();
    assert.doesNotMatch(text, /"errors"/, text);
    const status = /"status":\s*"([A-Z_]+)"/.exec(text)?.[1];
    if (status && status !== seen.at(-1)) {
      seen.push(status);
      if (seen.length === 2) {
        await mkdir(artifacts, { recursive: true });
        await page.screenshot({ path: new URL('playground-subscription.png', artifacts).pathname, fullPage: true });
      }
    }
    await page.waitForTimeout(50);
  }
  assert.ok(seen.length >= 2, `the result pane showed ${JSON.stringify(seen)}, want at least two successive states; it reads:
${await result.innerText()}
page problems: ${problems.join('\n')}; sockets: ${sockets.join(' ')}`);
  const positions = seen.map((s) => LIFE.indexOf(s));
  assert.ok(positions.every((p, i) => p >= 0 && (i === 0 || p > positions[i - 1])), `states out of order: ${JSON.stringify(seen)}`);
  assert.ok(sockets.some((u) => u === `${base.replace(/^http/, 'ws')}/query`), `no WebSocket to /query: ${JSON.stringify(sockets)}`);
  assert.deepEqual(problems, [], `the page reported problems:\n${problems.join('\n')}`);
});
