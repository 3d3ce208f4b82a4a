import nextVitals from 'eslint-config-next/core-web-vitals';
import nextTs from 'eslint-config-next/typescript';

/** What a pure protocol module may not import: Node, Next, React, the database. */
const FRAMEWORKS = [
  'node:*',
  'next',
  'next/*',
  'react',
  'react/*',
  'drizzle-orm',
  'drizzle-orm/*',
  'better-sqlite3',
  '@/*',
];

/** A pure module reads neither Buffer nor the environment. */
const pureGlobals = (where) => [
  'error',
  { name: 'Buffer', message: `Use Uint8Array in ${where}.` },
  { name: 'process', message: `Nothing in ${where} reads the environment.` },
];

const config = [
  ...nextVitals,
  ...nextTs,
  {
    ignores: [
      'node_modules/**',
      '.next/**',
      '.next-*/**',
      'data/**',
      'db/migrations/**',
      'test-results/**',
      'playwright-report/**',
      'next-env.d.ts',
    ],
  },
  {
    rules: {
      '@typescript-eslint/consistent-type-imports': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  {
    // The data layer is async on both databases: a query or a transaction left unawaited
    // would run after its caller moved on (or not at all), so type-aware checks guard it.
    files: ['**/*.ts', '**/*.tsx'],
    ignores: ['*.mts', '*.mjs'],
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': ['error', { checksVoidReturn: false }],
      '@typescript-eslint/await-thenable': 'error',
    },
  },
  {
    // The product does not ship the simulator or the test harness: virtual handsets (sim/) and
    // test support (test/) import lib, never the other way. Tests beside the code may use both.
    files: ['lib/**/*.{ts,tsx}', 'db/**/*.ts'],
    ignores: ['**/*.test.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['@/sim', '@/sim/*', '**/sim/*', '@/test/*', '**/test/*'],
              message: 'lib/ and db/ never import the simulator (sim/) or test support (test/).',
            },
          ],
        },
      ],
    },
  },
  {
    // The engine is a library in its own right: nothing from Node, Next, React or the database.
    files: ['lib/omadm/**/*.ts'],
    ignores: ['lib/omadm/**/*.test.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: [...FRAMEWORKS, '../../*'],
              message: 'lib/omadm is framework-free: it imports only itself and @noble/hashes.',
            },
          ],
        },
      ],
      'no-restricted-globals': pureGlobals('lib/omadm'),
    },
  },
  {
    // The DS session is pure like the DM engine: the protocol over a JSON state; the database
    // and the blob store are the gateway's glue's (lib/gateway/ds-session.ts).
    files: ['lib/ds/session.ts', 'lib/ds/protocol.ts', 'lib/ds/vobject.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: [...FRAMEWORKS, '../*', '!../omadm', '!../omadm/*'],
              message: "The DS session imports only lib/ds's pure modules, lib/omadm and @noble/hashes.",
            },
          ],
        },
      ],
      'no-restricted-globals': pureGlobals('the DS session'),
    },
  },
  {
    // app/ holds routes only: pages, route handlers and actions call their area's domain and
    // view functions (lib/<area>), which read and write through db/queries and write the audit
    // log. Tests beside the routes may seed and inspect the database directly.
    files: ['app/**/*.{ts,tsx}'],
    ignores: ['app/**/*.test.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['@/db/queries', '@/db/queries/*', '**/db/queries', '**/db/queries/*'],
              message: 'app/ calls lib/<area> (domain and view functions), never db/queries.',
            },
          ],
        },
      ],
    },
  },
  {
    files: ['components/**/*.{ts,tsx}'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['@/db/*', '@/lib/server/*', '../db/*', '../lib/server/*'],
              message: 'components are UI only: no database, no secrets.',
            },
          ],
        },
      ],
    },
  },
];

export default config;
