// Relay: relay-compiler compiles a @refetchable fragment on Call against the
// gateway's schema (`gateway schema`, SCHEMA_FILE from run.sh), and the
// generated refetch query fetches the order through node(id:) into Relay's
// normalised store.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { cpSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { Environment, Network, RecordSource, Store, fetchQuery } from 'relay-runtime';
import { data, endpoint } from './gateway.mjs';

const here = path.dirname(new URL(import.meta.url).pathname);

async function compile() {
  const schema = process.env.SCHEMA_FILE;
  assert.ok(schema, 'SCHEMA_FILE is not set: run ./run.sh');
  const dir = mkdtempSync(path.join(tmpdir(), 'relay-'));
  cpSync(path.join(here, 'relay'), path.join(dir, 'src'), { recursive: true });
  writeFileSync(path.join(dir, 'package.json'), '{"type":"module"}');
  writeFileSync(
    path.join(dir, 'relay.config.json'),
    JSON.stringify({ src: './src', schema, language: 'javascript' }),
  );
  const bin = path.join(here, 'node_modules', '.bin', 'relay-compiler');
  execFileSync(bin, [], { cwd: dir, stdio: 'pipe' });
  const artifact = path.join(dir, 'src', '__generated__', 'CallCardRefetchQuery.graphql.js');
  return (await import(pathToFileURL(artifact).href)).default;
}

test('Relay: a @refetchable fragment on Call compiles and refetches through node(id:)', async () => {
  const query = await compile();
  assert.match(query.params.text, /node\(id: \$id\)/, 'Relay refetches through Query.node');

  const { createCall } = await data(
    `mutation($input: CreateCallInput!) { createCall(input: $input) { id } }`,
    { input: { phoneNumber: '+14155550177', assistant: { prompt: 'Say hello.' } } },
  );
  const environment = new Environment({
    network: Network.create(async (params, variables) => {
      const res = await fetch(endpoint, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ query: params.text, variables }),
      });
      return res.json();
    }),
    store: new Store(new RecordSource()),
  });
  await fetchQuery(environment, query, { id: createCall.id }).toPromise();
  const record = environment.getStore().getSource().get(createCall.id);
  assert.ok(record, 'the order is in the store under its id');
  assert.equal(record.__typename, 'Call');
  assert.equal(record.toPhoneNumber, '+14155550177');
});
