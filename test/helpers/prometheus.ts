import parsePrometheusTextFormat, { type ParsedFamily, type ParsedSample } from 'parse-prometheus-text-format'

/** One scrape of `/metrics`, parsed by a real Prometheus text-format parser. */
export interface Scrape {
  /** Every metric family by name, with its TYPE as the parser read it. */
  families: Map<string, ParsedFamily>
  /**
   * The value of one sample (a counter or gauge, or a histogram's `<name>_count` / `_sum` / `_bucket` series),
   * 0 when absent.
   */
  value: (name: string, labels?: Record<string, string>) => number
  /** Every label set of a series. */
  labelSets: (name: string) => Array<Record<string, string>>
}

/**
 * Parses an exposition twice: as is, for the families and their types (the parser throws on a malformed line); and
 * with the histogram TYPE lines left out, so each histogram's `_bucket`, `_sum` and `_count` series come back as
 * plain samples with their labels. The parser folds a histogram with labels into one label-less entry and drops its
 * count and sum (yunyu/parse-prometheus-text-format#13), so labelled histograms are read that way.
 */
export function parseExposition (text: string): Scrape {
  const families = new Map(parsePrometheusTextFormat(text).map(f => [f.name, f]))
  const flat = parsePrometheusTextFormat(text.split('\n').filter(l => !/^# TYPE \S+ histogram$/.test(l)).join('\n'))
  // Without their TYPE, a histogram's series interleave (bucket, sum, count, bucket…): one entry per run, so merge
  // them.
  const series = new Map<string, ParsedSample[]>()
  for (const f of flat) series.set(f.name, [...(series.get(f.name) ?? []), ...f.metrics])
  const matches = (have: Record<string, string> | undefined, want: Record<string, string>): boolean =>
    Object.entries(want).every(([k, v]) => have?.[k] === v)
  return {
    families,
    value: (name, labels = {}) =>
      (series.get(name) ?? []).filter(s => matches(s.labels, labels)).reduce((n, s) => n + Number(s.value), 0),
    labelSets: name => (series.get(name) ?? []).map(s => s.labels ?? {})
  }
}

/** `GET /metrics` (with the token as Bearer when given); throws unless 200 in the Prometheus text format. */
export async function scrape (httpUrl: string, token?: string): Promise<Scrape> {
  const res = await fetch(`${httpUrl}/metrics`, {
    headers: token === undefined ? {} : { authorization: `Bearer ${token}` }
  })
  const text = await res.text()
  if (res.status !== 200) throw new Error(`GET /metrics: HTTP ${res.status} ${text}`)
  const type = res.headers.get('content-type') ?? ''
  if (!type.startsWith('text/plain; version=0.0.4')) throw new Error(`GET /metrics: content-type ${type}`)
  return parseExposition(text)
}
