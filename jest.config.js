/** Jest in ESM mode (NestJS 12 is ESM-only); ts-jest transpiles each file on its own. */
export default {
  testEnvironment: 'node',
  extensionsToTreatAsEsm: ['.ts'],
  moduleNameMapper: { '^(\\.{1,2}/.*)\\.js$': '$1' },
  transform: {
    '^.+\\.ts$': ['ts-jest', { useESM: true, tsconfig: 'tsconfig.json', diagnostics: false }],
  },
  testMatch: ['<rootDir>/test/**/*.test.ts'],
  globalSetup: '<rootDir>/test/support/global-setup.ts',
  // A guard against a hang, not a speed check: on a busy 2-core machine PGlite's start and migrations alone
  // have taken over 20 s (CI runs there); speed lives in bench/.
  testTimeout: 60_000,
};
