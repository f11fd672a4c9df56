/** Jest runs the TypeScript sources through ts-jest (type-checking is done once by `tsc` in
 * `npm test`'s build step). Worker threads and child processes load the compiled `dist/`. */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  transform: { '^.+\\.ts$': ['ts-jest', { diagnostics: false }] },
  testTimeout: 60000,
  maxWorkers: 2,
};
