// Size budgets (issue 2): the core entry at most 3 KB and the axios entry at most 1 KB, min+gzip, each
// ignoring axios, FingerprintJS and the other entry. Measured as ESM, the format browsers' bundlers
// consume: size-limit's default IIFE output turns the ignored `import('@fingerprintjs/fingerprintjs')`
// into a ~250 B require/interop shim that no ESM bundle contains.
const ignore = ['axios', '@fingerprintjs/fingerprintjs'];
const esm = (config) => ({ ...config, format: 'esm' });

export default [
  {
    name: '@devicelink/sdk (core entry)',
    path: 'dist/index.js',
    limit: '3 KB',
    gzip: true,
    ignore,
    modifyEsbuildConfig: esm,
  },
  {
    name: '@devicelink/sdk/axios',
    path: 'dist/axios.js',
    limit: '1 KB',
    gzip: true,
    ignore,
    modifyEsbuildConfig: esm,
  },
];
