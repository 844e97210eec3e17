import neostandard, { plugins } from 'neostandard'

export default [
  ...neostandard({ ts: true, ignores: ['dist/**', 'coverage/**', '.tap/**', 'scratch/**', 'node_modules/**'] }),
  {
    // One width for every file (STYLE.md); a line holding a URL may run past it.
    rules: { '@stylistic/max-len': ['error', { code: 120, ignoreUrls: true }] }
  },
  {
    files: ['**/*.ts', '**/*.tsx'],
    languageOptions: { parserOptions: { project: './tsconfig.eslint.json', tsconfigRootDir: import.meta.dirname } },
    plugins: { '@typescript-eslint': plugins['typescript-eslint'].plugin },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      // `void promise` is how a deliberately unawaited promise is marked.
      'no-void': ['error', { allowAsStatement: true }]
    }
  },
  {
    // The browser panel: its own tsconfig (DOM lib, Preact JSX), bundled by esbuild rather than compiled by tsc.
    files: ['src/panel/**/*.ts', 'src/panel/**/*.tsx'],
    languageOptions: { parserOptions: { project: './src/panel/tsconfig.json', tsconfigRootDir: import.meta.dirname } }
  },
  {
    // tap runs and awaits every t.test() it is given.
    files: ['test/**/*.ts'],
    rules: { '@typescript-eslint/no-floating-promises': 'off' }
  }
]
