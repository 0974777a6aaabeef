/** Unit specs live beside the code (src/**\/*.spec.ts); e2e suites in test/ boot the real app. */
const tsJest = ['ts-jest', { tsconfig: 'tsconfig.json' }];
/**
 * ESM-only dependencies, compiled to CommonJS for Jest (Node 20 loads them with require(esm);
 * Jest does so only on Node >= 24.9): content-disposition 3, required by @fastify/static.
 */
const esmOnly = ['content-disposition'];
const esm = {
  transform: {
    '^.+\\.ts$': tsJest,
    [`/node_modules/(${esmOnly.join('|')})/.+\\.js$`]: [
      'ts-jest',
      { tsconfig: { allowJs: true, module: 'commonjs' } },
    ],
  },
  // node_modules stays untransformed, except these packages, wherever they are nested.
  transformIgnorePatterns: [`/node_modules/(?!.*\\b(${esmOnly.join('|')})/)`],
};

/** @type {import('jest').Config} */
module.exports = {
  projects: [
    {
      displayName: 'unit',
      testEnvironment: 'node',
      rootDir: '.',
      testMatch: ['<rootDir>/src/**/*.spec.ts'],
      transform: { '^.+\\.ts$': tsJest },
    },
    {
      displayName: 'e2e',
      testEnvironment: 'node',
      rootDir: '.',
      testMatch: ['<rootDir>/test/**/*.e2e-spec.ts'],
      ...esm,
      setupFilesAfterEnv: ['<rootDir>/test/support/jest-setup.ts'],
    },
  ],
};
