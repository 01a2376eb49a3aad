// Errors of the PromQL subset and of metrics sources, with stable codes. `errorType` is the
// Prometheus HTTP API's category for the same failure (bad_data, execution, unavailable, ...),
// so the control plane's query API answers as Prometheus would.

export type MetricsErrorCode =
  | 'E_PROMQL_SYNTAX' // the text is not PromQL
  | 'E_PROMQL_UNSUPPORTED' // valid PromQL outside the subset meshmedic evaluates (`feature` names it)
  | 'E_PROMQL_TYPE' // valid syntax, wrong types (rate of an instant vector, offset on a function...)
  | 'E_PROMQL_BAD_REGEX' // a =~ or !~ matcher whose regex does not compile
  | 'E_PROMQL_EXEC' // evaluation failed (many-to-many matching, duplicate label sets)
  | 'E_PROMQL_LIMIT' // too many points asked for
  | 'E_QUERY_PARAM' // a bad time, duration or step parameter
  | 'E_METRICS_UNAVAILABLE'; // the metrics backend (a remote Prometheus) cannot be reached or failed

export type PrometheusErrorType = 'bad_data' | 'execution' | 'unavailable' | 'internal';

const ERROR_TYPES: Record<MetricsErrorCode, PrometheusErrorType> = {
  E_PROMQL_SYNTAX: 'bad_data',
  E_PROMQL_UNSUPPORTED: 'bad_data',
  E_PROMQL_TYPE: 'bad_data',
  E_PROMQL_BAD_REGEX: 'bad_data',
  E_PROMQL_EXEC: 'execution',
  E_PROMQL_LIMIT: 'execution',
  E_QUERY_PARAM: 'bad_data',
  E_METRICS_UNAVAILABLE: 'unavailable',
};

export class MetricsQueryError extends Error {
  readonly errorType: PrometheusErrorType;

  constructor(
    readonly code: MetricsErrorCode,
    message: string,
    /** For E_PROMQL_UNSUPPORTED: what is not supported, e.g. `subquery`, `function:label_replace`. */
    readonly feature?: string,
  ) {
    super(message);
    this.name = 'MetricsQueryError';
    this.errorType = ERROR_TYPES[code];
  }
}

export const unsupported = (feature: string, message: string) => new MetricsQueryError('E_PROMQL_UNSUPPORTED', message, feature);
export const typeError = (message: string) => new MetricsQueryError('E_PROMQL_TYPE', message);
