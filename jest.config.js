/** Unit specs live next to the code (`*.spec.ts`); suites against real processes live in test/ (`*.e2e-spec.ts`). */
const swc = [
  '@swc/jest',
  {
    jsc: {
      parser: { syntax: 'typescript', decorators: true },
      transform: { legacyDecorator: true, decoratorMetadata: true },
      target: 'es2022',
      keepClassNames: true,
    },
    module: { type: 'commonjs' },
    sourceMaps: 'inline',
  },
];

const shared = {
  moduleFileExtensions: ['ts', 'js', 'json'],
  transform: { '^.+\\.ts$': swc },
  // The packages resolve by name, through their package.json exports, to what `npm run build:packages` built.
  transformIgnorePatterns: ['/node_modules/', '/dist/'],
  testEnvironment: 'node',
  setupFiles: ['<rootDir>/test/support/quiet-logs.ts'],
};

module.exports = {
  projects: [
    {
      ...shared,
      displayName: 'unit',
      rootDir: __dirname,
      roots: ['<rootDir>/libs', '<rootDir>/src'],
      modulePathIgnorePatterns: ['<rootDir>/libs/[^/]+/dist/'],
      testRegex: '\\.spec\\.ts$',
    },
    {
      ...shared,
      displayName: 'e2e',
      rootDir: __dirname,
      roots: ['<rootDir>/test'],
      testRegex: '\\.e2e-spec\\.ts$',
    },
  ],
  // Global, not per project (Jest ignores it there): suites against real processes need more than 5 s at times.
  testTimeout: 60_000,
  // One worker per core, not Jest's default of one fewer: the suites against real processes spend most of their
  // time waiting on those processes (rates, fault windows, timeouts), so on a 2-core machine the default ran every
  // suite one after the other. Jest starts the suites that took longest last time first.
  maxWorkers: '100%',
};
