// Subscriptions with real clients: graphql-ws, Apollo Client's GraphQLWsLink
// and graphql-sse each follow a call placed in the sandbox (its clock sped
// up by SANDBOX_TIME_SCALE) from queued to completed, every state in order,
// then see the subscription complete. run.sh starts the sandbox and a
// gateway in front of it for these tests (LIVE_GATEWAY_URL, SANDBOX_URL).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import WebSocket from 'ws';
import { createClient as createWsClient } from 'graphql-ws';
import { createClient as createSseClient } from 'graphql-sse';
import { ApolloClient, InMemoryCache, gql } from '@apollo/client';
import { GraphQLWsLink } from '@apollo/client/link/subscriptions';

const gateway = process.env.LIVE_GATEWAY_URL;
const sandbox = process.env.SANDBOX_URL;
if (!gateway || !sandbox) {
  throw new Error('LIVE_GATEWAY_URL and SANDBOX_URL are not set: run ./run.sh');
}
const httpURL = new URL('/query', gateway).href;
const wsURL = httpURL.replace(/^http/, 'ws');

const FOLLOW = `subscription Follow($id: ID!) {
  callUpdated(id: $id) { id status lastCallAttempt { status } }
}`;

// Every state a placed call goes through, as (order status, attempt status).
const LIFE = ['QUEUED_FOR_CALLING/QUEUED', 'CALLING/RINGING', 'CALLING/ONGOING', 'COMPLETED/COMPLETED'];

/** place puts a call order on the sandbox and returns its id. */
async function place() {
  const res = await fetch(`${sandbox}/call`, {
    method: 'POST',
    headers: { authorization: 'Bearer sk_sandbox_demo', 'content-type': 'application/json' },
    body: JSON.stringify({ phone_number: '+14155550123', assistant: { prompt: 'Say hello, then goodbye.' } }),
  });
  assert.equal(res.status, 200, await res.clone().text());
  return (await res.json()).call.id;
}

/**
 * follower collects the events of one subscription: states() lists the
 * distinct states in arrival order, done resolves on completion.
 */
function follower(id) {
  const events = [];
  let resolve, reject;
  const done = new Promise((res, rej) => { resolve = res; reject = rej; });
  const sink = {
    next(result) {
      if (result.errors?.length) {
        reject(new Error(`error event: ${JSON.stringify(result.errors)}`));
        return;
      }
      const call = result.data.callUpdated;
      assert.equal(call.id, id);
      events.push(`${call.status}/${call.lastCallAttempt?.status ?? ''}`);
    },
    error: (err) => reject(err instanceof Error ? err : new Error(JSON.stringify(err))),
    complete: () => resolve(),
  };
  const states = () => events.filter((s, i) => i === 0 || s !== events[i - 1]);
  return { sink, done, states, events };
}

/** within fails a promise that takes longer than ms (a hang, not a timing check). */
function within(promise, ms, what) {
  let timer;
  return Promise.race([
    promise.finally(() => clearTimeout(timer)),
    new Promise((_, reject) => { timer = setTimeout(() => reject(new Error(`${what}: not done in ${ms} ms`)), ms); }),
  ]);
}

test('graphql-ws follows a placed call from queued to completed, then completes', async () => {
  const client = createWsClient({ url: wsURL, webSocketImpl: WebSocket, lazy: true, retryAttempts: 0 });
  try {
    const id = await place();
    const f = follower(id);
    client.subscribe({ query: FOLLOW, variables: { id } }, f.sink);
    await within(f.done, 60_000, 'graphql-ws subscription');
    assert.deepEqual(f.states(), LIFE);
  } finally {
    await client.dispose();
  }
});

test('Apollo Client with GraphQLWsLink follows a placed call from queued to completed, then completes', async () => {
  const wsClient = createWsClient({ url: wsURL, webSocketImpl: WebSocket, retryAttempts: 0 });
  const client = new ApolloClient({ link: new GraphQLWsLink(wsClient), cache: new InMemoryCache() });
  try {
    const id = await place();
    const f = follower(id);
    const observable = client.subscribe({ query: gql(FOLLOW), variables: { id } });
    const subscription = observable.subscribe({
      next: (result) => (result.error ? f.sink.error(result.error) : f.sink.next(result)),
      error: f.sink.error,
      complete: f.sink.complete,
    });
    await within(f.done, 60_000, 'Apollo subscription');
    subscription.unsubscribe();
    assert.deepEqual(f.states(), LIFE);
  } finally {
    client.stop();
    await wsClient.dispose();
  }
});

test('graphql-sse (distinct connections) follows a placed call from queued to completed, then completes', async () => {
  const client = createSseClient({ url: httpURL, retryAttempts: 0 });
  try {
    const id = await place();
    const f = follower(id);
    client.subscribe({ query: FOLLOW, variables: { id } }, f.sink);
    await within(f.done, 60_000, 'graphql-sse subscription');
    assert.deepEqual(f.states(), LIFE);
  } finally {
    client.dispose();
  }
});

test('callUpdated on an unknown id is one NOT_FOUND event, then completion (graphql-ws)', async () => {
  const client = createWsClient({ url: wsURL, webSocketImpl: WebSocket, retryAttempts: 0 });
  try {
    const results = [];
    await within(new Promise((resolve, reject) => {
      client.subscribe({ query: FOLLOW, variables: { id: 'no-such-order' } }, {
        next: (r) => results.push(r),
        error: reject,
        complete: resolve,
      });
    }), 30_000, 'NOT_FOUND subscription');
    assert.equal(results.length, 1);
    assert.equal(results[0].data, null);
    assert.deepEqual(results[0].errors.map((e) => e.extensions.code), ['NOT_FOUND']);
  } finally {
    await client.dispose();
  }
});
