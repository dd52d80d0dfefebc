// The layer rules of ../shared/DESIGN.md ("Layout"), checked by `npm run check` (npm run layers).
// Top:      src/cli, src/http, workers/ and src/app.ts (the composition root they share)
// Use cases: src/campaigns
// Parts:    src/dispatch, src/channels, src/bounces, src/intake, src/metrics
// Storage:  src/db, src/auth
// Pure:     src/domain
// A layer imports only layers below it; src/config.ts, src/logger.ts, src/errors.ts,
// src/dependencies.ts and queues/ are shared plumbing below the parts.
const top = '^(src/(cli|http)/|workers/|src/app[.]ts$)';
const campaigns = '^src/campaigns/';
const parts = '^src/(dispatch|channels|bounces|intake|metrics)/';
const storage = '^src/(db|auth)/';
module.exports = {
  forbidden: [
    { name: 'no-cycles', severity: 'error', comment: 'an import cycle', from: {}, to: { circular: true } },
    { name: 'domain-is-pure', severity: 'error', comment: 'src/domain imports only src/domain (and libraries)', from: { path: '^src/domain/' }, to: { path: '^(src/(?!domain/)|workers/|queues/|bench/|test/)' } },
    { name: 'app-only-from-top', severity: 'error', comment: 'the composition root is imported only by cli, http and workers', from: { path: '^(src|workers|queues)/', pathNot: top }, to: { path: '^src/app[.]ts$' } },
    { name: 'campaigns-below-top', severity: 'error', comment: 'src/campaigns is below cli, http and workers', from: { path: campaigns }, to: { path: top } },
    { name: 'parts-below-campaigns', severity: 'error', comment: 'dispatch, channels, bounces, intake and metrics are below campaigns', from: { path: parts }, to: { path: `(${top})|(${campaigns})` } },
    { name: 'storage-below-parts', severity: 'error', comment: 'db and auth are below every part', from: { path: storage }, to: { path: `(${top})|(${campaigns})|(${parts})` } },
    { name: 'plumbing-below-parts', severity: 'error', comment: 'config, logger, errors, dependencies and queues are below every part', from: { path: '^(src/(config|logger|errors|dependencies)[.]ts$|queues/)' }, to: { path: `(${top})|(${campaigns})|(${parts})` } },
    { name: 'src-not-from-tests', severity: 'error', comment: 'product code never imports tests or benches', from: { path: '^(src|workers|queues)/' }, to: { path: '^(test|bench)/' } },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    exclude: { path: '^(node_modules|test-artifacts|[.]data)/' },
  },
};
