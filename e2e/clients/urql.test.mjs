// urql smoke test: the core client (document cache, fetch exchange, GET for
// short queries) reads a page of attempts and a call order, and sees the
// gateway's coded errors.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Client, cacheExchange, fetchExchange, gql } from '@urql/core';
import { data, endpoint, orderIds } from './gateway.mjs';

// urql sends short queries as GET. A GET without a preflight-forcing header
// is what a cross-site page could send, so the gateway (like Apollo Server)
// refuses it; Apollo-Require-Preflight keeps GET, and its HTTP caching, usable.
const client = new Client({
  url: endpoint,
  exchanges: [cacheExchange, fetchExchange],
  fetchOptions: { headers: { 'apollo-require-preflight': 'true' } },
});

const PAGE = gql`
  query Page($first: Int!, $statuses: [CallStatusFilter!]) {
    calls(first: $first, statuses: $statuses) {
      __typename
      nodes { __typename id status result startedAt transcriptLength }
      pageInfo { __typename hasNextPage endCursor }
    }
  }
`;

const CALL = gql`
  query Call($id: ID!) {
    call(id: $id) {
      __typename id status toPhoneNumber isCompleted callsCount
      callAttempts { __typename id status lastWords: transcript(roles: [USER], last: 1) { __typename content } }
    }
  }
`;

// The reference answers come over plain POST; urql adds __typename to every
// selection for its cache, so the documents select it themselves.
const print = (doc) => doc.loc.source.body;

async function firstOrderWithAttempts() {
  for (const id of orderIds()) {
    const { call } = await data('query($id: ID!) { call(id: $id) { callsCount } }', { id });
    if (call.callsCount > 0) return id;
  }
  assert.fail('no order in ORDER_IDS has attempts');
}

test('urql fetches a page of attempts', async () => {
  const variables = { first: 5, statuses: ['COMPLETED'] };
  const result = await client.query(PAGE, variables).toPromise();
  assert.equal(result.error, undefined);
  assert.equal(result.data.calls.nodes.length, 5);
  assert.ok(result.data.calls.nodes.every((n) => n.status === 'COMPLETED'));
  assert.deepEqual(result.data, await data(print(PAGE), variables));
});

test('urql fetches a call order', async () => {
  const id = await firstOrderWithAttempts();
  const result = await client.query(CALL, { id }).toPromise();
  assert.equal(result.error, undefined);
  assert.equal(result.data.call.id, id);
  assert.ok(result.data.call.callAttempts.length > 0);
  assert.deepEqual(result.data, await data(print(CALL), { id }));
});

test('urql sees NOT_FOUND for an unknown call order', async () => {
  const result = await client.query(CALL, { id: 'call_does_not_exist' }).toPromise();
  assert.equal(result.data.call, null);
  assert.deepEqual(result.error.graphQLErrors.map((e) => e.extensions.code), ['NOT_FOUND']);
});
