// The part of autocannon 8's API the bench uses (the package ships no types; @types/autocannon is not installed).
declare module "autocannon" {
  export interface RequestParams {
    method?: string;
    path?: string;
    headers?: Record<string, string>;
    body?: string | Buffer;
  }
  export interface Request<C> extends RequestParams {
    /** Called just before the request is written; a falsy result skips to the first request of the list. */
    setupRequest?: (req: RequestParams, context: C) => RequestParams | null | undefined | false;
    onResponse?: (status: number, body: string, context: C, headers: Record<string, string>) => void;
  }
  export interface Options<C> {
    url: string;
    connections?: number;
    duration?: number;
    amount?: number;
    /** Requests per connection, after which it closes. */
    maxConnectionRequests?: number;
    /** How often autocannon samples (ms); it also notices stop() only then. */
    sampleInt?: number;
    overallRate?: number;
    connectionRate?: number;
    timeout?: number;
    pipelining?: number;
    requests?: Request<C>[];
    initialContext?: C;
    excludeErrorStats?: boolean;
    title?: string;
  }
  export interface Histogram {
    average: number;
    mean: number;
    stddev: number;
    min: number;
    max: number;
    p50: number;
    p90: number;
    p99: number;
    p99_9?: number;
    total?: number;
    sent?: number;
  }
  export interface Result {
    title?: string;
    duration: number;
    start: Date;
    finish: Date;
    errors: number;
    timeouts: number;
    mismatches: number;
    non2xx: number;
    resets: number;
    "2xx": number;
    "4xx": number;
    "5xx": number;
    statusCodeStats: Record<string, { count: number }>;
    latency: Histogram;
    requests: Histogram;
  }
  export interface Instance extends NodeJS.EventEmitter {
    stop(): void;
  }
  function autocannon<C = Record<string, unknown>>(
    opts: Options<C>,
    cb: (err: Error | null, result: Result) => void,
  ): Instance;
  export default autocannon;
}
