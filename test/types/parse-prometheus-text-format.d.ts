// parse-prometheus-text-format ships no types. Its output follows prom2json: one entry per metric family, samples
// with string values; histograms and summaries without labels are folded into {buckets|quantiles, count, sum}.
declare module 'parse-prometheus-text-format' {
  export interface ParsedSample {
    value?: string
    labels?: Record<string, string>
    buckets?: Record<string, string>
    quantiles?: Record<string, string>
    count?: string
    sum?: string
  }
  export interface ParsedFamily {
    name: string
    help: string
    type: 'COUNTER' | 'GAUGE' | 'HISTOGRAM' | 'SUMMARY' | 'UNTYPED'
    metrics: ParsedSample[]
  }
  function parsePrometheusTextFormat (text: string): ParsedFamily[]
  export default parsePrometheusTextFormat
}
