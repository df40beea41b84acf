// Entry point of the playground bundle: GraphiQL 5 with Monaco, its web
// workers served next to this file, and the endpoint read from the page.
import './nonce.js';
import { createRoot } from 'react-dom/client';
import { GraphiQL } from 'graphiql';
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

async function fetcher(params, options) {
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

createRoot(root).render(<GraphiQL fetcher={fetcher} />);
