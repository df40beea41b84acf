// The graphql-http package's GraphQL-over-HTTP audit suite against /query.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { auditServer } from 'graphql-http';
import { gatewayURL } from './gateway.mjs';

// audit runs every audit and returns the results that are not ok, printed
// with their id, name and reason.
async function audit(fetchFn) {
  const results = await auditServer({ url: `${gatewayURL()}/query`, fetchFn });
  const counts = { ok: 0, notice: 0, warn: 0, error: 0 };
  const notOK = [];
  for (const result of results) {
    counts[result.status] = (counts[result.status] ?? 0) + 1;
    if (result.status !== 'ok') {
      notOK.push(result);
      console.log(`${result.status} ${result.id} ${result.name}: ${JSON.stringify(result.reason)}`);
    }
  }
  console.log(`graphql-http audit: ${results.length} audits, ` +
    Object.entries(counts).map(([status, n]) => `${n} ${status}`).join(', '));
  assert.ok(results.length > 40, `only ${results.length} audits ran`);
  return notOK;
}

const describe = (results) => results.map((r) => `${r.status} ${r.id} ${r.name}: ${JSON.stringify(r.reason)}`).join('\n');

// A client that satisfies the gateway's CSRF prevention (a header a
// cross-site form or link cannot send) must see every audit, MUST, SHOULD
// and MAY alike, pass.
test('/query passes every graphql-http audit for a CSRF-safe client', async () => {
  const notOK = await audit((input, init = {}) => fetch(input, {
    ...init,
    headers: { ...init.headers, 'apollo-require-preflight': 'true' },
  }));
  assert.deepEqual(notOK.map((r) => r.id), [], `audits not ok:\n${describe(notOK)}`);
});

// A client sending exactly what the audit sends must see no error and no
// warning. The only audits it may miss are the optional GET ones, because
// CSRF prevention refuses a GET that carries no preflight-only header.
test('/query has no audit error or warning for a plain client', async () => {
  const notOK = await audit(fetch);
  const optionalGET = new Set(['5A70', 'D6D5', '6A70']);
  const unexpected = notOK.filter((r) => r.status !== 'notice' || !optionalGET.has(r.id));
  assert.deepEqual(unexpected.map((r) => r.id), [], `audits not ok:\n${describe(unexpected)}`);
});
