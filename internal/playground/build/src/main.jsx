// Entry point of the playground bundle: GraphiQL 5 with Monaco, its web
// workers served next to this file, and the endpoint read from the page;
// subscriptions run over graphql-ws on the same endpoint.
import './nonce.js';
import { createRoot } from 'react-dom/client';
import { GraphiQL } from 'graphiql';
import { createClient } from 'graphql-ws';
import { getOperationAST, parse } from 'graphql';
import 'graphiql/style.css';
import './page.css';

const workers = {
  json: 'json.worker.js',
  graphql: 'graphql.worker.js',
};

globalThis.MonacoEnvironment = {
  getWorker(_workerId, label) {
    const file = workers[label] ?? 'editor.worker.js';
    return new Worker(new URL(file, import.meta.url), { name: label });
  },
};

const root = document.getElementById('graphiql');
const endpoint = root.dataset.endpoint;

// Subscriptions go over a WebSocket (graphql-transport-ws) to the same
// endpoint; the Headers tab's Authorization travels in connection_init, as
// browsers cannot set headers on a WebSocket.
const subscriptionURL = new URL(endpoint, window.location.href);
subscriptionURL.protocol = subscriptionURL.protocol === 'https:' ? 'wss:' : 'ws:';
const sockets = new Map(); // by Authorization: one connection per credential

function socketFor(headers) {
  const authorization = headers?.Authorization ?? headers?.authorization ?? '';
  let client = sockets.get(authorization);
  if (!client) {
    client = createClient({
      url: subscriptionURL.href,
      connectionParams: authorization ? { Authorization: authorization } : {},
      lazy: true,
    });
    sockets.set(authorization, client);
  }
  return client;
}

// isSubscription reads the operation from the query sent: GraphiQL's own
// parsed document may lag behind the editor.
function isSubscription(params) {
  try {
    return getOperationAST(parse(params.query), params.operationName || undefined)?.operation === 'subscription';
  } catch {
    return false; // the server answers the syntax error
  }
}

function fetcher(params, options) {
  if (isSubscription(params)) {
    const client = socketFor(options?.headers);
    return {
      subscribe(observer) {
        const dispose = client.subscribe(params, {
          next: (value) => observer.next(value),
          error: (err) => observer.error(err instanceof Error ? err : new Error(err?.reason || 'the subscription failed')),
          complete: () => observer.complete(),
        });
        return { unsubscribe: dispose };
      },
    };
  }
  return fetchOnce(params, options);
}

async function fetchOnce(params, options) {
  const response = await fetch(endpoint, {
    method: 'POST',
    headers: {
      Accept: 'application/graphql-response+json, application/json',
      'Content-Type': 'application/json',
      ...options?.headers,
    },
    body: JSON.stringify(params),
    credentials: 'same-origin',
  });
  return response.json();
}

// The first tab of a fresh playground: a query that answers on the sandbox.
const defaultQuery = `# The Revox GraphQL gateway. Run this with the play button (Ctrl-Enter);
# the Docs pane lists every field. Subscriptions (callUpdated) run here too.
# The newest attempts of completed orders, with the callee's last words.
{
  calls(first: 5, statuses: [COMPLETED]) {
    nodes {
      id
      phoneNumber
      result
      startedAt
      durationSeconds
      lastWords: transcript(roles: [USER], last: 1) { content }
    }
    pageInfo { hasNextPage endCursor }
  }
}
`;

createRoot(root).render(<GraphiQL fetcher={fetcher} defaultQuery={defaultQuery} />);
