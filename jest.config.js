// Tests are written in TypeScript beside the code and compiled by `tsc -b` (run by `pretest`);
// jest runs the compiled ES modules directly, so no transform is needed and what is tested is
// exactly what ships.
export default {
  testEnvironment: 'node',
  transform: {},
  testMatch: ['<rootDir>/packages/*/dist/**/*.test.js', '<rootDir>/tests/dist/**/*.test.js'],
  testPathIgnorePatterns: ['/node_modules/'],
  testTimeout: 60000,
  // Two workers whatever the machine: jest's default (cores - 1) is one on CI's two cores, which
  // runs every suite in band, one after another, while most of them wait on brokers, child
  // processes and sockets. `npm test -- --maxWorkers=N` still overrides it.
  maxWorkers: 2,
};
