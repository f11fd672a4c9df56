// `npm run lint`: typescript-eslint (recommended + the type-aware rules below), import cycles,
// and the layers of docs/architecture.md. Formatting is Prettier's (.prettierrc.json).
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import importX from 'eslint-plugin-import-x';
import { createTypeScriptImportResolver } from 'eslint-import-resolver-typescript';

/** Lower layers never import higher ones: migrations ← shared ← api, worker ← scripts, bench, test. */
const layers = [
  {
    target: './migrations',
    from: ['./shared', './api', './worker', './scripts', './bench', './test'],
    message: 'a migration is frozen: it writes out what it creates',
  },
  {
    target: './shared',
    from: ['./api', './worker', './scripts', './bench', './test'],
    message: 'shared/ serves every process and imports none of them',
  },
  {
    target: './api',
    from: ['./worker', './scripts', './bench', './test'],
    message: 'the api never runs work and never imports the worker',
  },
  { target: './worker', from: ['./api', './scripts', './bench', './test'], message: 'the worker never imports the api' },
  {
    target: './shared/uws',
    from: ['./shared/tap', './shared/soda', './shared/sia', './shared/datalink', './shared/services.ts'],
    message: 'the UWS engine is generic: the application names its services (shared/services.ts)',
  },
];

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'var/**', 'coverage/**', '**/*.js', '**/*.mjs'] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    plugins: { 'import-x': importX },
    settings: {
      // The TypeScript parser reads imported files too (no-cycle follows them through it).
      'import-x/extensions': ['.ts'],
      'import-x/parsers': { '@typescript-eslint/parser': ['.ts'] },
      'import-x/resolver-next': [createTypeScriptImportResolver({ project: './tsconfig.json' })],
    },
    linterOptions: { reportUnusedDisableDirectives: 'error' },
    rules: {
      'import-x/no-cycle': ['error', { ignoreExternal: true }],
      'import-x/no-restricted-paths': ['error', { zones: layers }],
      'import-x/no-self-import': 'error',
      'import-x/no-duplicates': 'error',
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'inline-type-imports' }],
      '@typescript-eslint/switch-exhaustiveness-check': ['error', { considerDefaultExhaustiveForUnions: true }],
      '@typescript-eslint/no-floating-promises': 'error',
      // Express 5 awaits a handler's promise and passes a rejection to the error handler.
      '@typescript-eslint/no-misused-promises': ['error', { checksVoidReturn: { arguments: false, attributes: false } }],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' }],
      // Template literals of numbers and unions are how messages are written here.
      '@typescript-eslint/restrict-template-expressions': [
        'error',
        {
          allowNumber: true,
          allowBoolean: true,
          allowNullish: true,
          allow: [
            { from: 'lib', name: 'URLSearchParams' },
            { from: 'file', name: 'Tally' },
          ],
        },
      ],
      // Methods of promise-returning interfaces (knex's MigrationSource, close()) are async without awaiting.
      '@typescript-eslint/require-await': 'off',
    },
  },
  {
    // Tests assert on parsed documents whose shape the assertion itself checks.
    files: ['test/**/*.ts'],
    rules: {
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
      '@typescript-eslint/no-non-null-assertion': 'off',
    },
  },
);
