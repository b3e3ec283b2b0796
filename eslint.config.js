import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['bench/.work/**', 'dist/**', 'client/dist/**', 'dist-typecheck/**', 'node_modules/**', 'data/**', 'bench/results/**', 'coverage/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-restricted-imports': 'off',
    },
  },
  {
    files: ['src/domain/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', { patterns: ['fastify', 'better-sqlite3', 'pg', 'node:*', '../store/*', '../http/*', '../services/*', '../ingest/*'] }],
    },
  },
  {
    files: ['src/services/**/*.ts'],
    rules: { 'no-restricted-imports': ['error', { patterns: ['fastify', 'better-sqlite3', 'pg', '../store/*', '../http/*'] }] },
  },
  {
    files: ['**/*.js', '**/*.mjs'],
    languageOptions: {
      globals: Object.fromEntries(
        ['process', 'console', 'URL', 'performance', 'fetch', 'FormData', 'TextDecoder', 'setTimeout', 'Buffer', 'structuredClone'].map((g) => [g, 'readonly']),
      ),
    },
  },
);
