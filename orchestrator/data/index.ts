/** Data validation: dataset expectations from mlops.yaml, streamed over CSV, JSON and Parquet. */
export { checkDataset, checkDatasets, failureTable, locate, describe } from './check';
export { ExpectationSuite, formatFraction, hasType, numberOf, isDatetimeText } from './expectations';
export { CsvParser, parseCsv } from './csv';
export { scanTable, formatOf, isNull, type Cell, type TableFormat, type TableVisitor } from './table';
