// A second subgraph for the federation test: notes that people keep about
// call orders. It references the gateway's `Call` entity by id only
// (`resolvable: false`), so every other field of a note's call is resolved by
// the Revox subgraph through `_entities`. It also defines the Relay `PageInfo`
// that the Revox subgraph shares. Served by @apollo/subgraph's schema over a
// plain node:http server.
import { createServer } from 'node:http';
import { graphql, parse } from 'graphql';
import { buildSubgraphSchema } from '@apollo/subgraph';

/** unknownOrderId is a call order id the sandbox does not have. */
export const unknownOrderId = 'call_does_not_exist';

/** notesTypeDefs is the notes subgraph's SDL. */
export const notesTypeDefs = `
extend schema
  @link(url: "https://specs.apollo.dev/federation/v2.7", import: ["@key", "@shareable"])

type Query {
  "Every note, oldest first."
  notes: [Note!]!
  "Notes as a connection, with the shared Relay PageInfo."
  notePage(first: Int!): NoteConnection!
}

type Note @key(fields: "id") {
  id: ID!
  text: String!
  "The call order the note is about, resolved by the Revox subgraph."
  call: Call
}

type NoteConnection {
  nodes: [Note!]!
  pageInfo: PageInfo!
}

type PageInfo @shareable {
  hasNextPage: Boolean!
  hasPreviousPage: Boolean!
  startCursor: String
  endCursor: String
}

type Call @key(fields: "id", resolvable: false) {
  id: ID!
}
`;

/**
 * startNotesSubgraph serves notes about the given call order ids (two about
 * the first, one about each other, one about an unknown order) on a loopback
 * port. It resolves to { url, notes, close }.
 */
export async function startNotesSubgraph(orderIds) {
  const notes = [
    { id: 'note-1', text: 'Callee asked to be called back after lunch.', callId: orderIds[0] },
    { id: 'note-2', text: 'Second note about the same order.', callId: orderIds[0] },
    ...orderIds.slice(1).map((callId, i) => ({ id: `note-${i + 3}`, text: `Follow up on ${callId}.`, callId })),
    { id: 'note-orphan', text: 'About an order that does not exist.', callId: unknownOrderId },
  ];
  const byId = new Map(notes.map((n) => [n.id, n]));
  const schema = buildSubgraphSchema({
    typeDefs: parse(notesTypeDefs),
    resolvers: {
      Query: {
        notes: () => notes,
        notePage: (_, { first }) => ({
          nodes: notes.slice(0, first),
          pageInfo: {
            hasNextPage: first < notes.length,
            hasPreviousPage: false,
            startCursor: first > 0 && notes.length > 0 ? notes[0].id : null,
            endCursor: notes[Math.min(first, notes.length) - 1]?.id ?? null,
          },
        }),
      },
      Note: {
        __resolveReference: (ref) => byId.get(ref.id) ?? null,
        call: (note) => ({ __typename: 'Call', id: note.callId }),
      },
    },
  });

  const server = createServer(async (req, res) => {
    try {
      if (req.method !== 'POST') {
        res.writeHead(405, { allow: 'POST' }).end();
        return;
      }
      const chunks = [];
      for await (const chunk of req) chunks.push(chunk);
      const { query, variables, operationName } = JSON.parse(Buffer.concat(chunks).toString('utf8'));
      const result = await graphql({ schema, source: query, variableValues: variables, operationName });
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(result));
    } catch (err) {
      res.writeHead(400, { 'content-type': 'application/json' }).end(JSON.stringify({ errors: [{ message: String(err) }] }));
    }
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address();
  return {
    url: `http://127.0.0.1:${port}/graphql`,
    notes,
    close: () => new Promise((resolve) => server.close(resolve)),
  };
}
