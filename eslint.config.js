// Lint: typescript-eslint's recommended rules, plus the dependency direction of DESIGN.md:
// controllers, scheduler and agent reach the cluster only through client/ and api/.
import tseslint from 'typescript-eslint';

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
  { files: ['src/controllers/**', 'src/scheduler/**', 'src/agent/**'], rules: onlyClientAndApi },
  { files: ['src/api/**'], rules: { 'no-restricted-imports': ['error', { patterns: ['**/storage/*', '**/apiserver/*'] }] } },
  { files: ['src/storage/**'], rules: { 'no-restricted-imports': ['error', { patterns: ['**/apiserver/*'] }] } },
);
