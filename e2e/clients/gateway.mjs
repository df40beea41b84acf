// The gateway under test, as every client test reaches it: its address (from
// GATEWAY_URL, set by run.sh), a plain POST for reference answers, the ids
// the upstream pages hold, and real call order ids (from ORDER_IDS).
import assert from 'node:assert/strict';

const base = process.env.GATEWAY_URL;
if (!base) {
  throw new Error('GATEWAY_URL is not set: run ./run.sh, or point it at a running gateway (e.g. http://127.0.0.1:8080)');
}

/** endpoint is the gateway's GraphQL URL. */
export const endpoint = new URL('/query', base).href;

/** orderIds returns real call order ids of the gateway's sandbox dataset. */
export function orderIds() {
  const ids = (process.env.ORDER_IDS ?? '').split(/[\s,]+/).filter(Boolean);
  assert.ok(ids.length >= 3, 'ORDER_IDS must hold at least 3 call order ids (run.sh prints them with `go run ./e2e/clients/orderids`)');
  return ids;
}

/** post sends one GraphQL request over plain fetch and returns the whole body. */
export async function post(query, variables = {}) {
  const res = await fetch(endpoint, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ query, variables }),
  });
  assert.equal(res.status, 200, `gateway answered HTTP ${res.status}`);
  return res.json();
}

/** data is post for requests that must succeed: it fails on any error. */
export async function data(query, variables = {}) {
  const body = await post(query, variables);
  assert.equal(body.errors, undefined, `unexpected errors: ${JSON.stringify(body.errors)}`);
  return body.data;
}

/**
 * attemptIdsByPages lists every attempt id under a statuses filter with the
 * upstream's own pages, `calls(page:, pageSize: 100)`: the reference order
 * the cursor walks must reproduce.
 */
export async function attemptIdsByPages(statuses) {
  const ids = [];
  for (let page = 0; ; page++) {
    assert.ok(page < 1000, 'page mode does not end');
    const { calls } = await data(
      `query Page($page: Int!, $statuses: [CallStatusFilter!]) {
        calls(page: $page, pageSize: 100, statuses: $statuses) { nodes { id } pageInfo { hasNextPage } }
      }`,
      { page, statuses },
    );
    ids.push(...calls.nodes.map((n) => n.id));
    if (!calls.pageInfo.hasNextPage) return ids;
  }
}
