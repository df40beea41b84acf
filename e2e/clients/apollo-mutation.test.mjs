// Apollo Client places and cancels a call as a frontend's useMutation would
// (client.mutate), and its normalised cache holds the order under its id.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ApolloClient, HttpLink, InMemoryCache, gql } from '@apollo/client';
import { endpoint } from './gateway.mjs';

const CREATE = gql`
  mutation Place($input: CreateCallInput!) {
    createCall(input: $input) { id status toPhoneNumber isCancelled metadata }
  }
`;
const CANCEL = gql`
  mutation Cancel($id: ID!) { cancelCall(id: $id) { id status isCancelled } }
`;

const input = (key) => ({
  phoneNumber: '+14155550142',
  assistant: { prompt: 'Remind the customer of tomorrow’s appointment.' },
  metadata: { lead: 'e2e' },
  idempotencyKey: key,
});

test('Apollo Client: createCall places the order once per key and the cache holds it by id', async () => {
  const client = new ApolloClient({ link: new HttpLink({ uri: endpoint }), cache: new InMemoryCache() });
  const key = `apollo-${process.pid}-${Date.now()}`;
  const first = await client.mutate({ mutation: CREATE, variables: { input: input(key) } });
  const order = first.data.createCall;
  assert.equal(order.toPhoneNumber, '+14155550142');
  assert.equal(order.metadata.gateway_idempotency_key, key);

  const cacheId = client.cache.identify({ __typename: 'Call', id: order.id });
  assert.equal(cacheId, `Call:${order.id}`);
  assert.equal(client.cache.extract()[cacheId].id, order.id, 'the order is normalised under Call:<id>');

  // A retry with the same key (a double click, a timed-out request) answers the same order.
  const again = await client.mutate({ mutation: CREATE, variables: { input: input(key) } });
  assert.equal(again.data.createCall.id, order.id);

  const cancelled = await client.mutate({ mutation: CANCEL, variables: { id: order.id } });
  assert.equal(cancelled.data.cancelCall.isCancelled, true);
  assert.equal(client.cache.extract()[cacheId].isCancelled, true, 'the cancel updated the cached order in place');
});

test('Apollo Client: the same key with another input is IDEMPOTENCY_KEY_REUSED', async () => {
  const client = new ApolloClient({ link: new HttpLink({ uri: endpoint }), cache: new InMemoryCache() });
  const key = `apollo-reused-${process.pid}-${Date.now()}`;
  await client.mutate({ mutation: CREATE, variables: { input: input(key) } });
  await assert.rejects(
    client.mutate({ mutation: CREATE, variables: { input: { ...input(key), phoneNumber: '+14155550143' } } }),
    (err) => {
      const codes = (err.errors ?? err.graphQLErrors ?? []).map((e) => e.extensions?.code);
      assert.deepEqual(codes, ['IDEMPOTENCY_KEY_REUSED']);
      return true;
    },
  );
});
