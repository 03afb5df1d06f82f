// Lint: typescript-eslint's recommended rules, plus the dependency direction of DESIGN.md:
// controllers, scheduler and agent reach the cluster only through client/ and api/; and no
// import cycle anywhere (import-x/no-cycle, resolving the `.js` specifiers to `.ts` files through
// the TypeScript resolver; type-only imports are erased at runtime and do not count).
import tseslint from 'typescript-eslint';
import importX from 'eslint-plugin-import-x';
import { createTypeScriptImportResolver } from 'eslint-import-resolver-typescript';

const onlyClientAndApi = {
  'no-restricted-imports': ['error', {
    patterns: [{
      group: ['**/storage/*', '**/apiserver/*', '**/etcd/*'],
      message: 'controllers, scheduler and agent talk to the cluster only through client/ and api/',
    }],
  }],
};

export default tseslint.config(
  { ignores: ['dist/**', '.build/**', 'node_modules/**', 'bench/results/**', '.trireme/**'] },
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-empty': ['error', { allowEmptyCatch: false }],
    },
  },
  {
    files: ['src/**/*.ts', 'test/**/*.ts', 'bench/**/*.ts'],
    plugins: { 'import-x': importX },
    settings: {
      'import-x/extensions': ['.ts', '.js', '.mjs'],
      'import-x/parsers': { '@typescript-eslint/parser': ['.ts'] },
      'import-x/resolver-next': [createTypeScriptImportResolver({ project: './tsconfig.json' })],
    },
    rules: { 'import-x/no-cycle': ['error', { ignoreExternal: true }] },
  },
  { files: ['src/controllers/**', 'src/scheduler/**', 'src/agent/**'], rules: onlyClientAndApi },
  { files: ['src/api/**'], rules: { 'no-restricted-imports': ['error', { patterns: ['**/storage/*', '**/apiserver/*'] }] } },
  { files: ['src/storage/**'], rules: { 'no-restricted-imports': ['error', { patterns: ['**/apiserver/*'] }] } },
);
