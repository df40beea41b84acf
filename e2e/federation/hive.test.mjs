// The production shape of issue 13: Hive Gateway (@graphql-hive/gateway, its
// CLI as a process of its own) runs a supergraph composed from the Revox
// subgraph's live SDL and the client tests' notes subgraph; the Revox
// subgraph URL is a round-robin proxy over two replicas of the gateway that
// share one Redis (run.sh starts them, with the sandbox upstream as a
// process of its own). A query that crosses the subgraphs answers what a
// replica answers directly, and both replicas serve.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createServer, request } from 'node:http';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'graphql';
import { composeServices } from '@apollo/composition';
import { startNotesSubgraph, notesTypeDefs, unknownOrderId } from '../clients/notes-subgraph.mjs';

const replicas = (process.env.REPLICA_URLS ?? '').split(',').filter(Boolean);
const orderIds = (process.env.ORDER_IDS ?? '').split(',').filter(Boolean);
if (replicas.length !== 2 || orderIds.length < 3) {
  throw new Error('REPLICA_URLS (two) and ORDER_IDS are set by ./run.sh');
}

let notes;
let balancer;
let hive;
let dir;

/** post sends one GraphQL request and returns the whole body. */
async function post(url, query, variables = {}) {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ query, variables }),
  });
  assert.equal(res.status, 200, `${url} answered HTTP ${res.status}`);
  return res.json();
}

/** direct asks replica i itself, for reference answers. */
async function direct(i, query, variables) {
  const body = await post(`${replicas[i]}/query`, query, variables);
  assert.equal(body.errors, undefined, JSON.stringify(body.errors));
  return body.data;
}

/**
 * startRoundRobin is the load balancer in front of the replicas: each
 * request goes to the next replica, and served counts what each answered.
 */
async function startRoundRobin(targets) {
  const served = targets.map(() => 0);
  let next = 0;
  const server = createServer((req, res) => {
    const i = next++ % targets.length;
    served[i]++;
    const target = new URL(req.url, targets[i]);
    const up = request(target, { method: req.method, headers: { ...req.headers, host: target.host } }, (answer) => {
      res.writeHead(answer.statusCode, answer.headers);
      answer.pipe(res);
    });
    up.on('error', (err) => res.writeHead(502).end(String(err)));
    req.pipe(up);
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${server.address().port}/query`,
    served,
    close: () => new Promise((resolve) => server.close(resolve)),
  };
}

async function freePort() {
  const s = createServer();
  await new Promise((resolve) => s.listen(0, '127.0.0.1', resolve));
  const { port } = s.address();
  await new Promise((resolve) => s.close(resolve));
  return port;
}

/** startHive runs the hive-gateway CLI on the supergraph until it is ready. */
async function startHive(supergraphPath) {
  const port = await freePort();
  let log = '';
  const proc = spawn(join(import.meta.dirname, 'node_modules', '.bin', 'hive-gateway'),
    ['supergraph', supergraphPath, '--host', '127.0.0.1', '--port', String(port)],
    { stdio: ['ignore', 'pipe', 'pipe'], env: { PATH: process.env.PATH, HOME: process.env.HOME ?? '/' } });
  proc.stdout.on('data', (d) => { log += d; });
  proc.stderr.on('data', (d) => { log += d; });
  const base = `http://127.0.0.1:${port}`;
  for (let i = 0; i < 300; i++) {
    if (proc.exitCode !== null) throw new Error(`hive-gateway exited (${proc.exitCode}):\n${log}`);
    try {
      if ((await fetch(`${base}/readiness`)).ok) {
        return { url: `${base}/graphql`, stop: () => { proc.kill(); return new Promise((r) => proc.once('exit', r)); }, log: () => log };
      }
    } catch {}
    await new Promise((r) => setTimeout(r, 100));
  }
  proc.kill();
  throw new Error(`hive-gateway not ready after 30s:\n${log}`);
}

before(async () => {
  notes = await startNotesSubgraph(orderIds.slice(0, 3));
  balancer = await startRoundRobin(replicas);
  const revoxSDL = (await direct(0, '{ _service { sdl } }'))._service.sdl;
  const { supergraphSdl, errors } = composeServices([
    { name: 'revox', typeDefs: parse(revoxSDL), url: balancer.url },
    { name: 'notes', typeDefs: parse(notesTypeDefs), url: notes.url },
  ]);
  assert.equal(errors, undefined, JSON.stringify(errors));
  dir = await mkdtemp(join(tmpdir(), 'hive-'));
  const path = join(dir, 'supergraph.graphql');
  await writeFile(path, supergraphSdl);
  hive = await startHive(path);
});

after(async () => {
  await hive?.stop();
  await balancer?.close();
  await notes?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

const callSelection = 'id status toPhoneNumber callsCount lastCallAttempt { id status }';

test('through Hive Gateway a query across both subgraphs answers what a replica answers, and both replicas serve', async () => {
  const before = [...balancer.served];
  const result = await post(hive.url, `query NotesWithTheirCalls { notes { id text call { ${callSelection} } } }`);
  assert.equal(result.data.notes.length, notes.notes.length, JSON.stringify(result));
  for (const [i, note] of notes.notes.entries()) {
    const got = result.data.notes[i];
    assert.equal(got.id, note.id);
    if (note.callId === unknownOrderId) {
      assert.equal(got.call, null);
      continue;
    }
    const want = await direct(i % 2, `query($id: ID!) { call(id: $id) { ${callSelection} } }`, { id: note.callId });
    assert.deepEqual(got.call, want.call, `note ${note.id}`);
  }
  // The unknown order is NOT_FOUND under its own note only (Hive Gateway
  // reports it on each field the query asked of it).
  const orphan = notes.notes.findIndex((n) => n.callId === unknownOrderId);
  assert.ok(result.errors?.length > 0, 'the unknown order is reported');
  for (const e of result.errors) {
    assert.equal(e.extensions?.code, 'NOT_FOUND', JSON.stringify(e));
    assert.deepEqual(e.path.slice(0, 3), ['notes', orphan, 'call'], JSON.stringify(e));
  }

  const page = await post(hive.url, '{ calls(first: 3) { nodes { id status } pageInfo { hasNextPage endCursor } } }');
  assert.equal(page.errors, undefined, JSON.stringify(page.errors));
  assert.deepEqual(page.data.calls, (await direct(1, '{ calls(first: 3) { nodes { id status } pageInfo { hasNextPage endCursor } } }')).calls);
  const served = balancer.served.map((n, i) => n - before[i]);
  assert.ok(served.every((n) => n > 0), `requests per replica: ${served}`);
});

/**
 * events reads a graphql-sse "distinct connections" stream (POST with
 * Accept: text/event-stream) until it completes, returning every next
 * event's payload.
 */
async function events(url, query, variables, limitMs) {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), limitMs);
  try {
    const res = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'text/event-stream' },
      body: JSON.stringify({ query, variables }),
      signal: controller.signal,
    });
    assert.equal(res.status, 200, `${url} answered HTTP ${res.status}`);
    assert.match(res.headers.get('content-type') ?? '', /text\/event-stream/);
    const out = [];
    let buf = '';
    const decoder = new TextDecoder();
    for await (const chunk of res.body) {
      buf += decoder.decode(chunk, { stream: true });
      let cut;
      while ((cut = buf.indexOf('\n\n')) >= 0) {
        const block = buf.slice(0, cut);
        buf = buf.slice(cut + 2);
        const event = /^event: *(.*)$/m.exec(block)?.[1] ?? 'message';
        const data = block.split('\n').filter((l) => l.startsWith('data:')).map((l) => l.slice(5).trim()).join('\n');
        if (event === 'complete') return out;
        if (data) out.push(JSON.parse(data));
      }
    }
    return out;
  } finally {
    clearTimeout(timer);
  }
}

test('through Hive Gateway a callUpdated subscription follows a placed call to its end', async () => {
  const { createCall } = await direct(0,
    'mutation($input: CreateCallInput!) { createCall(input: $input) { id } }',
    { input: { phoneNumber: '+14155550188', assistant: { prompt: 'Say hello.' } } });
  const got = await events(hive.url,
    'subscription Follow($id: ID!) { callUpdated(id: $id) { id status callAttempts { status } } }',
    { id: createCall.id }, 60_000);
  for (const e of got) assert.equal(e.errors, undefined, JSON.stringify(e.errors));
  const states = got.map((e) => `${e.data.callUpdated.status}/${e.data.callUpdated.callAttempts[0]?.status ?? '-'}`);
  assert.ok(got.every((e) => e.data.callUpdated.id === createCall.id), JSON.stringify(got));
  assert.equal(states.at(-1), 'COMPLETED/COMPLETED', `states seen: ${states}`);
  assert.ok(new Set(states).size >= 3, `at least three successive states: ${states}`);
});
