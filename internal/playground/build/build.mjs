// Bundles GraphiQL, React, Monaco and Monaco's workers into OUTDIR (refresh.sh
// passes a temporary directory that replaces ../assets) so the gateway can
// serve the playground with no request leaving its origin.
import { build } from 'esbuild';
import { rm, mkdir } from 'node:fs/promises';

const out = process.argv[2];
if (!out) {
  throw new Error('usage: node build.mjs OUTDIR');
}
await rm(out, { recursive: true, force: true });
await mkdir(out, { recursive: true });

const common = {
  bundle: true,
  minify: true,
  target: 'es2022',
  legalComments: 'linked',
  define: { 'process.env.NODE_ENV': '"production"' },
  logLevel: 'warning',
};

await build({
  ...common,
  entryPoints: { graphiql: 'src/main.jsx' },
  outdir: out,
  format: 'esm',
  jsx: 'automatic',
  loader: { '.ttf': 'file', '.woff': 'file', '.woff2': 'file', '.svg': 'file' },
  assetNames: '[name]-[hash]',
});

await build({
  ...common,
  entryPoints: {
    'editor.worker': 'monaco-editor/esm/vs/editor/editor.worker.js',
    'json.worker': 'monaco-editor/esm/vs/language/json/json.worker.js',
    'graphql.worker': 'monaco-graphql/esm/graphql.worker.js',
  },
  outdir: out,
  format: 'iife',
});
