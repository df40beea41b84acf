// Apollo Client against the gateway, configured as the README tells
// frontends to: `Query.calls` merged by relayStylePagination keyed by the
// `statuses` filter. fetchMore must walk every attempt exactly once, in the
// upstream's order, forward with first/after and backward with last/before.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ApolloClient, HttpLink, InMemoryCache, gql } from '@apollo/client';
import { relayStylePagination } from '@apollo/client/utilities';
import { attemptIdsByPages, endpoint } from './gateway.mjs';

const CALLS = gql`
  query Calls($first: Int, $after: String, $last: Int, $before: String, $statuses: [CallStatusFilter!]) {
    calls(first: $first, after: $after, last: $last, before: $before, statuses: $statuses) {
      edges { cursor node { id status startedAt } }
      pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
    }
  }
`;

function newClient() {
  return new ApolloClient({
    link: new HttpLink({ uri: endpoint }),
    cache: new InMemoryCache({
      typePolicies: {
        Query: { fields: { calls: relayStylePagination(['statuses']) } },
      },
    }),
  });
}

/**
 * watch starts a watched query, as a component would with useQuery. Its
 * settled() resolves with the next complete result the query emits: the
 * merged list after a fetchMore arrives that way, as a re-render would.
 */
function watch(client, variables) {
  const query = client.watchQuery({ query: CALLS, variables });
  let waiting = [];
  const settle = (fn) => {
    const w = waiting;
    waiting = [];
    w.forEach(fn);
  };
  const subscription = query.subscribe({
    next: (result) => {
      if (result.error) settle((w) => w.reject(result.error));
      else if (!result.loading && result.data) settle((w) => w.resolve(result.data));
    },
    error: (err) => settle((w) => w.reject(err)),
  });
  const settled = () => new Promise((resolve, reject) => waiting.push({ resolve, reject }));
  return { query, settled, stop: () => subscription.unsubscribe() };
}

const ids = (connection) => connection.edges.map((e) => e.node.id);

/**
 * walk pages with fetchMore from a first window until the merged connection
 * says there is nothing more in the direction, and returns the merged
 * connection and the ids each fetchMore answered with, in fetch order.
 */
async function walk(variables, direction, limit) {
  const client = newClient();
  const { query, settled, stop } = watch(client, variables);
  try {
    let merged = (await settled()).calls;
    const pages = [ids(merged)];
    const more = direction === 'forward' ? () => merged.pageInfo.hasNextPage : () => merged.pageInfo.hasPreviousPage;
    while (more()) {
      assert.ok(pages.length <= limit, 'fetchMore does not reach the end of the list');
      const cursor = direction === 'forward' ? { after: merged.pageInfo.endCursor } : { before: merged.pageInfo.startCursor };
      const next = settled();
      const page = await query.fetchMore({ variables: cursor });
      pages.push(ids(page.data.calls));
      merged = (await next).calls;
    }
    return { merged, pages };
  } finally {
    stop();
    client.stop();
  }
}

// Window sizes that do not divide the upstream page size (100), so windows
// straddle upstream pages.
const filters = {
  'without a filter': { statuses: null, size: { forward: 37, backward: 23 } },
  'with statuses [COMPLETED]': { statuses: ['COMPLETED'], size: { forward: 37, backward: 23 } },
  'with statuses [CALLING, ERRORED]': { statuses: ['CALLING', 'ERRORED'], size: { forward: 9, backward: 8 } },
};

for (const [name, { statuses, size }] of Object.entries(filters)) {
  test(`fetchMore visits every attempt once and in order, ${name}`, async (t) => {
    const want = await attemptIdsByPages(statuses);
    assert.ok(want.length > 2 * size.forward, `only ${want.length} attempts ${name}: the walk would prove little`);
    const limit = Math.ceil(want.length / Math.min(size.forward, size.backward)) + 1;

    await t.test('forward with first/after', async () => {
      const { merged, pages } = await walk({ first: size.forward, statuses }, 'forward', limit);
      assert.deepEqual(ids(merged), want, 'merged list = page-mode list');
      assert.deepEqual(pages.flat(), want, 'each page continues where the last ended');
      assert.equal(pages.length, Math.ceil(want.length / size.forward));
      assert.equal(merged.pageInfo.hasNextPage, false);
      assert.equal(merged.pageInfo.hasPreviousPage, false);
      assert.equal(merged.pageInfo.startCursor, merged.edges[0].cursor);
      assert.equal(merged.pageInfo.endCursor, merged.edges.at(-1).cursor);
    });

    await t.test('backward with last/before', async () => {
      const { merged, pages } = await walk({ last: size.backward, statuses }, 'backward', limit);
      assert.deepEqual(ids(merged), want, 'merged list = page-mode list');
      assert.deepEqual(pages.reverse().flat(), want, 'each page ends where the previous one started');
      assert.equal(pages.length, Math.ceil(want.length / size.backward));
      assert.equal(merged.pageInfo.hasPreviousPage, false);
      assert.equal(merged.pageInfo.hasNextPage, false);
      assert.equal(new Set(merged.edges.map((e) => e.cursor)).size, want.length, 'cursors are distinct');
    });
  });
}

test('cursors are bound to their statuses filter', async () => {
  const client = newClient();
  try {
    const { data } = await client.query({ query: CALLS, variables: { first: 2, statuses: ['COMPLETED'] } });
    await assert.rejects(
      client.query({ query: CALLS, variables: { first: 2, after: data.calls.pageInfo.endCursor, statuses: ['CALLING'] } }),
      (err) => err.errors?.some((e) => e.extensions?.code === 'BAD_USER_INPUT'),
    );
  } finally {
    client.stop();
  }
});
