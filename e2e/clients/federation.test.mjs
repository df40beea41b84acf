// The gateway as an Apollo Federation v2 subgraph: its live `_service { sdl }`
// composes with a second subgraph (notes about call orders, which references
// `Call` by id), an @apollo/gateway runs the composed supergraph over both,
// and a query that crosses them answers what the gateway answers directly.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { parse, validate } from 'graphql';
import { composeServices } from '@apollo/composition';
import { ApolloGateway } from '@apollo/gateway';
import { data, endpoint, orderIds } from './gateway.mjs';
import { notesTypeDefs, startNotesSubgraph, unknownOrderId } from './notes-subgraph.mjs';

const quietLogger = { debug() {}, info() {}, warn: console.warn, error: console.error };

let revoxSDL;
let notes;
let gateway;

before(async () => {
  revoxSDL = (await data('{ _service { sdl } }'))._service.sdl;
  notes = await startNotesSubgraph(await ordersWithUserTurns(3));
});

after(async () => {
  await gateway?.stop();
  await notes?.close();
});

/**
 * ordersWithUserTurns picks n call orders whose attempts have something the
 * callee said, so that the crossing query has data at every level.
 */
async function ordersWithUserTurns(n) {
  const picked = [];
  for (const id of orderIds()) {
    const { call } = await data(`query($id: ID!) { call(id: $id) { callAttempts { transcript(roles: [USER], first: 1) { content } } } }`, { id });
    if (call.callAttempts.some((a) => a.transcript?.length > 0)) picked.push(id);
    if (picked.length === n) return picked;
  }
  assert.fail(`fewer than ${n} of ORDER_IDS have a USER transcript turn`);
}

/** plain drops the null prototypes @apollo/gateway builds results with. */
const plain = (v) => JSON.parse(JSON.stringify(v));

function compose(revox = revoxSDL, notesSDL = notesTypeDefs) {
  return composeServices([
    { name: 'revox', typeDefs: parse(revox), url: endpoint },
    { name: 'notes', typeDefs: parse(notesSDL), url: notes.url },
  ]);
}

function errorCodes(result) {
  return (result.errors ?? []).map((e) => `${e.extensions?.code}: ${e.message}`);
}

/**
 * execute runs one operation on a loaded @apollo/gateway the way a GraphQL
 * server hosting it does: validate against the API schema, then hand the
 * executor a request context (@apollo/server-gateway-interface).
 */
async function execute({ schema, executor }, query, variables = {}) {
  const document = parse(query);
  assert.deepEqual(validate(schema, document).map(String), [], 'the operation is valid against the supergraph');
  const operation = document.definitions.find((d) => d.kind === 'OperationDefinition');
  const operationName = operation.name?.value ?? null;
  return executor({
    request: { query, variables, operationName: operationName ?? undefined },
    document,
    source: query,
    queryHash: createHash('sha256').update(query).digest('hex'),
    operation,
    operationName,
    schema,
    schemaHash: '',
    context: {},
    logger: quietLogger,
    metrics: {},
    overallCachePolicy: undefined,
  });
}

test('the live subgraph SDL links Federation v2 and keys Call by id', () => {
  assert.match(revoxSDL, /extend schema\s+@link\(url: "https:\/\/specs\.apollo\.dev\/federation\/v2\.\d+", import: \[[^\]]*"@key"[^\]]*\]\)/);
  assert.match(revoxSDL, /type Call implements Node @key\(fields: "id"\) \{/);
  assert.match(revoxSDL, /type PageInfo @shareable \{/);
  assert.match(revoxSDL, /type CallAttempt \{/, 'CallAttempt is a plain value type');
  assert.doesNotMatch(revoxSDL, /_entities|_Service|@entityResolver/, 'the SDL is the public schema, without gqlgen internals');
});

test('composes with a second subgraph without errors or hints', () => {
  const result = compose();
  assert.deepEqual(errorCodes(result), []);
  assert.deepEqual(result.hints.map((h) => `${h.definition.code}: ${h.message}`), []);
  assert.match(result.supergraphSdl, /join__type\(graph: REVOX, key: "id"\)/);
  assert.match(result.supergraphSdl, /join__type\(graph: NOTES, key: "id", resolvable: false\)/);
});

test('composition holds other subgraphs to the federation contract', async (t) => {
  await t.test('PageInfo can be shared only because the Revox subgraph marks it @shareable', () => {
    const unshared = revoxSDL.replace('type PageInfo @shareable {', 'type PageInfo {');
    assert.notEqual(unshared, revoxSDL);
    const codes = errorCodes(compose(unshared));
    assert.ok(codes.length > 0 && codes.every((c) => c.startsWith('INVALID_FIELD_SHARING') && c.includes('"PageInfo.')), codes.join('\n'));
  });
  await t.test('no other subgraph may reference or define CallAttempt', () => {
    for (const callAttempt of [
      'type CallAttempt @key(fields: "id", resolvable: false) { id: ID! }',
      'type CallAttempt @shareable { id: ID! }',
    ]) {
      const codes = errorCodes(compose(revoxSDL, `${notesTypeDefs}\n${callAttempt}\nextend type Note { attempt: CallAttempt }`));
      assert.ok(codes.length > 0 && codes.every((c) => c.startsWith('INVALID_FIELD_SHARING') && c.includes('"CallAttempt.id"')), `${callAttempt}: ${codes.join('\n')}`);
    }
  });
});

const callSelection = `
  id status toPhoneNumber callsCount
  lastCallAttempt { id status }
  callAttempts { id status startedAt transcript(roles: [USER], first: 1) { role content } }
`;

test('a query across both subgraphs answers what the gateway answers directly', async () => {
  const { supergraphSdl, errors } = compose();
  assert.equal(errors, undefined);
  gateway = new ApolloGateway({ supergraphSdl, logger: quietLogger });
  const loaded = await gateway.load();

  const result = plain(await execute(loaded, `query NotesWithTheirCalls {
    notes { id text call { ${callSelection} } }
  }`));

  // Every note's call is what call(id:) answers, the unknown one is null
  // with NOT_FOUND for that note only.
  assert.equal(result.data.notes.length, notes.notes.length);
  let orphans = 0;
  for (const [i, note] of notes.notes.entries()) {
    const got = result.data.notes[i];
    assert.equal(got.id, note.id);
    assert.equal(got.text, note.text);
    if (note.callId === unknownOrderId) {
      orphans++;
      assert.equal(got.call, null);
      continue;
    }
    const direct = await data(`query($id: ID!) { call(id: $id) { ${callSelection} } }`, { id: note.callId });
    assert.ok(direct.call.callAttempts.some((a) => a.transcript?.length > 0), `order ${note.callId} has a USER turn`);
    assert.deepEqual(got.call, direct.call, `note ${note.id}: call ${note.callId}`);
  }
  assert.equal(orphans, 1);
  const codes = (result.errors ?? []).map((e) => e.extensions?.code);
  assert.deepEqual(codes, ['NOT_FOUND'], JSON.stringify(result.errors));
  const orphanIndex = notes.notes.findIndex((n) => n.callId === unknownOrderId);
  assert.deepEqual(result.errors[0].path, ['notes', orphanIndex, 'call']);
});

test('the shared PageInfo resolves from each subgraph through the supergraph', async () => {
  const { supergraphSdl } = compose();
  const own = new ApolloGateway({ supergraphSdl, logger: quietLogger });
  try {
    const loaded = await own.load();
    const pageInfo = 'pageInfo { hasNextPage hasPreviousPage startCursor endCursor }';
    const result = plain(await execute(loaded, `query BothPages {
      calls(first: 3, statuses: [COMPLETED]) { nodes { id } ${pageInfo} }
      notePage(first: 2) { nodes { id } ${pageInfo} }
    }`));
    assert.equal(result.errors, undefined, JSON.stringify(result.errors));
    const direct = await data(`{ calls(first: 3, statuses: [COMPLETED]) { nodes { id } ${pageInfo} } }`);
    assert.deepEqual(result.data.calls, direct.calls);
    assert.deepEqual(result.data.notePage.pageInfo, {
      hasNextPage: true,
      hasPreviousPage: false,
      startCursor: notes.notes[0].id,
      endCursor: notes.notes[1].id,
    });
  } finally {
    await own.stop();
  }
});
