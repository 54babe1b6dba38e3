// Tests are written in TypeScript beside the code and compiled by `tsc -b` (run by `pretest`);
// jest runs the compiled ES modules directly, so no transform is needed and what is tested is
// exactly what ships.
export default {
  testEnvironment: 'node',
  transform: {},
  testMatch: ['<rootDir>/packages/*/dist/**/*.test.js', '<rootDir>/tests/dist/**/*.test.js'],
  testPathIgnorePatterns: ['/node_modules/'],
  testTimeout: 60000,
};
