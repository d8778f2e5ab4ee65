/** Data drift: per-column statistical tests between a reference and a current data set, as JSON or standalone HTML. */
export { loadColumns, type Column, type LoadedTable } from './columns';
export { driftReport, isStatTest, STAT_TESTS, type DriftOptions } from './report';
export { driftHtml } from './html';
export { driftFiles } from './files';
export { ks2Samp, ksPValue, ksStatistic, KS_EXACT_MAX_N } from './ks';
export { kstwoSf } from './kolmogorov';
