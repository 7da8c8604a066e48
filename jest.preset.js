// Shared jest settings for every workspace: TypeScript through @swc/jest (type checking is
// the separate `typecheck` turbo task), tests in test/**/*.test.ts mirroring src/.
module.exports = {
  testEnvironment: 'node',
  testMatch: ['<rootDir>/test/**/*.test.ts'],
  transform: {
    '^.+\\.ts$': ['@swc/jest', { jsc: { parser: { syntax: 'typescript' }, target: 'es2022' }, module: { type: 'commonjs' } }],
  },
  moduleFileExtensions: ['ts', 'js', 'json'],
};
