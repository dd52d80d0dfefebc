import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['node_modules/', '.data/'] },
  { files: ['**/*.cjs'], languageOptions: { sourceType: 'commonjs', globals: { module: 'writable', require: 'readonly' } } },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { process: 'readonly', console: 'readonly', Buffer: 'readonly', NodeJS: 'readonly', setTimeout: 'readonly', clearTimeout: 'readonly', setInterval: 'readonly', clearInterval: 'readonly', URL: 'readonly' } },
    rules: {
      'no-console': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_' }],
      '@typescript-eslint/no-explicit-any': 'error',
    },
  },
  { files: ['test/**', 'bench/**', 'scripts/**', 'bin/**'], rules: { 'no-console': 'off' } },
  {
    // The console's script: an ES module in the browser.
    files: ['src/http/console/*.js'],
    languageOptions: { sourceType: 'module', globals: { document: 'readonly', window: 'readonly', fetch: 'readonly', navigator: 'readonly', localStorage: 'readonly', location: 'readonly', URLSearchParams: 'readonly', URL: 'readonly', Blob: 'readonly', XMLHttpRequest: 'readonly', addEventListener: 'readonly', removeEventListener: 'readonly', setInterval: 'readonly', clearInterval: 'readonly' } },
  },
  {
    // The dashboard's own script runs in the browser.
    files: ['src/http/dashboard/*.js', 'src/http/signin/*.js'],
    languageOptions: { sourceType: 'script', globals: { document: 'readonly', window: 'readonly', fetch: 'readonly', navigator: 'readonly', localStorage: 'readonly', location: 'readonly', URLSearchParams: 'readonly', uPlot: 'readonly' } },
  },
);
