// ESLint flat config for the whole repository.
//
// Everything: @eslint/js and typescript-eslint recommended (not type-aware, so it stays fast).
// domain/: the pure exam rules. They run on the appliance, in the browser and in sync, and every
// time rule is tested with a fake clock, so domain/ may not import Node built-ins, storage, HTTP or
// UI libraries, and may not read the clock, randomness or the process environment. The rules below
// enforce that; domain/domain-purity.test.ts proves each one fires.
import { builtinModules } from 'node:module';
import js from '@eslint/js';
import { defineConfig, globalIgnores } from 'eslint/config';
import tseslint from 'typescript-eslint';
import reactHooks from 'eslint-plugin-react-hooks';

const CLOCK_ARG = 'domain/ takes a Clock as an argument: use clock.now() from the caller.';
const RANDOM_ARG = 'domain/ takes a random source as an argument (e.g. randomBytes: (n) => Uint8Array).';
const NO_IO =
  'domain/ is pure and also runs in the browser: do I/O at the edge (appliance/, sync/, client/) and pass the result in.';

// Every Node built-in, with and without the node: prefix, plus the ones named in the design notes
// (they are all built-ins; listed so that the intent is visible and survives a Node upgrade).
// Subpaths (fs/promises, path/posix, stream/web, timers/promises ...) are caught by a pattern.
const NODE_BUILTINS = [
  ...new Set([
    ...builtinModules.map((name) => name.replace(/^node:/, '').split('/')[0]),
    'fs',
    'path',
    'crypto',
    'os',
    'child_process',
    'http',
    'net',
    'stream',
    'util',
    'events',
    'url',
    'buffer',
    'worker_threads',
    'timers',
  ]),
].sort();
const escapeRegex = (s) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** Options of no-restricted-imports for domain/. */
export const DOMAIN_RESTRICTED_IMPORTS = {
  paths: NODE_BUILTINS.map((name) => ({ name, message: `'${name}' is a Node built-in. ${NO_IO}` })),
  patterns: [
    { regex: '^node:', message: `Node built-ins are not allowed in domain/. ${NO_IO}` },
    {
      regex: `^(?:${NODE_BUILTINS.map(escapeRegex).join('|')})/`,
      message: `Node built-ins are not allowed in domain/. ${NO_IO}`,
    },
    { regex: '^pouchdb', message: `domain/ does not touch storage (PouchDB lives in appliance/src/store). ${NO_IO}` },
    {
      regex: '^(?:hono(?:/|$)|@hono/)',
      message: `domain/ knows nothing of HTTP (Hono lives in appliance/src/http). ${NO_IO}`,
    },
    { regex: '^rxdb', message: `domain/ does not touch storage (RxDB lives in client/). ${NO_IO}` },
    { regex: '^(?:preact|@preact/)', message: 'domain/ has no UI: Preact lives in client/.' },
  ],
};

export default defineConfig(
  globalIgnores([
    '**/node_modules/',
    'client/dist/',
    'appliance/dist/',
    'portal/dist/',
    'dist/',
    'data/',
    'coverage/',
    'test-output/',
  ]),
  js.configs.recommended,
  tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': [
        'error',
        {
          argsIgnorePattern: '^_',
          varsIgnorePattern: '^_',
          destructuredArrayIgnorePattern: '^_',
          caughtErrorsIgnorePattern: '^_',
        },
      ],
    },
  },
  {
    // The client's components and hooks: Preact hooks follow React's rules of hooks. The two
    // classic rules only: the plugin's React Compiler rules (immutability, refs, ...) do not
    // recognise preact/hooks' useRef as a ref and flag every `ref.current =`. The dependency lists
    // are errors, not warnings: a stale closure in the exam screen is a lost answer.
    files: ['client/src/**/*.{ts,tsx}'],
    plugins: { 'react-hooks': reactHooks },
    rules: {
      'react-hooks/rules-of-hooks': 'error',
      'react-hooks/exhaustive-deps': 'error',
    },
  },
  {
    // sync/ knows nothing of the appliance (docs/architecture.md): the appliance wires the sync
    // to its store. Its integration tests with a real appliance are in tests/sync/, their support
    // in tests/support/. The rule holds for sync's own tests too.
    files: ['sync/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              regex: '(?:^|/)appliance/',
              message: 'sync/ imports only domain/: the appliance wires the sync (appliance/src/hall-sync-wiring.ts).',
            },
            {
              regex: '(?:^|/)portal/',
              message: 'sync/ imports only domain/: the portal uses sync/, not the other way round.',
            },
          ],
        },
      ],
    },
  },
  {
    // The institution's portal (docs/portal.md) stands beside the institution's CouchDB: it uses
    // domain/ and sync/ (publish, collect, the design documents), never the appliance or its PWA.
    files: ['portal/**/*.{ts,tsx}'],
    // Its browser tests (portal/e2e) use the browser-test support in client/e2e/.
    ignores: ['portal/page/**', 'portal/e2e/**'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              regex: '(?:^|/)(?:appliance|client)/',
              message: 'portal/ imports only domain/, sync/ and itself: it never runs on a box.',
            },
          ],
        },
      ],
    },
  },
  {
    // The portal's page runs in the browser: it takes the server's wire types (portal/shared/) and
    // nothing of the server, Node or storage.
    files: ['portal/page/**/*.{ts,tsx}'],
    plugins: { 'react-hooks': reactHooks },
    rules: {
      'react-hooks/rules-of-hooks': 'error',
      'react-hooks/exhaustive-deps': 'error',
      'no-restricted-imports': [
        'error',
        {
          paths: NODE_BUILTINS.map((name) => ({
            name,
            message: `'${name}' is a Node built-in: the page runs in the browser.`,
          })),
          patterns: [
            { regex: '^node:', message: 'The page runs in the browser: no Node built-ins.' },
            {
              regex: '(?:^|/)(?:appliance|client|sync|server)/',
              message: 'The page takes only portal/shared/ (and domain/): the server does the rest.',
            },
            { regex: '^(?:pouchdb|hono(?:/|$)|@hono/)', message: 'The page talks to the portal server only.' },
          ],
        },
      ],
    },
  },
  {
    // Inside appliance/src, imports go down: http/ (the edge) uses the rest, and the answer-file
    // check and the crypto use neither http/ nor store/ (what both need is in domain/ or beside
    // them: domain/proto-keys.ts, crypto/exam-secret.ts).
    files: ['appliance/src/answer-files/**/*.ts', 'appliance/src/crypto/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              regex: '^\\.\\./(?:http|store)/',
              message: 'answer-files/ and crypto/ sit below http/ and store/: move what both need down.',
            },
          ],
        },
      ],
    },
  },
  {
    // Test files in domain/ keep the same rules: they use FakeClock and seeded random sources too.
    // (They may import vitest, which no rule here restricts.)
    files: ['domain/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', DOMAIN_RESTRICTED_IMPORTS],
      'no-restricted-syntax': [
        'error',
        {
          selector: "NewExpression[callee.name='Date'][arguments.length=0]",
          message: `new Date() reads the clock. ${CLOCK_ARG}`,
        },
        { selector: "CallExpression[callee.name='Date']", message: `Date() reads the clock. ${CLOCK_ARG}` },
        {
          selector: 'ImportExpression',
          message: 'No dynamic import() in domain/: it would get around the import rules.',
        },
      ],
      'no-restricted-properties': [
        'error',
        { object: 'Date', property: 'now', message: `Date.now() reads the clock. ${CLOCK_ARG}` },
        { object: 'performance', property: 'now', message: `performance.now() reads the clock. ${CLOCK_ARG}` },
        { object: 'Math', property: 'random', message: `Math.random() is randomness. ${RANDOM_ARG}` },
        {
          object: 'crypto',
          property: 'getRandomValues',
          message: `crypto.getRandomValues() is randomness. ${RANDOM_ARG}`,
        },
        { object: 'crypto', property: 'randomUUID', message: `crypto.randomUUID() is randomness. ${RANDOM_ARG}` },
        { object: 'globalThis', property: 'process', message: `domain/ never reads the process. ${NO_IO}` },
      ],
      'no-restricted-globals': [
        'error',
        {
          name: 'process',
          message: `domain/ never reads the process (env, argv, hrtime, ...): domain/ takes a Clock / random source and any setting it needs as an argument.`,
        },
      ],
    },
  },
);
