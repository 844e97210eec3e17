import { useMemo } from 'preact/hooks'
import { CHART_SPAN_MS } from '../ingest.js'
import type { Point } from '../model.js'
import { value as fmt } from '../format.js'

const W = 300
const H = 100
/** Points further apart than this are not joined: the device was silent. */
const GAP_MS = 600_000

interface Scale { min: number, max: number }

function scale (points: Point[]): Scale {
  let min = Infinity
  let max = -Infinity
  for (const p of points) { min = Math.min(min, p.v); max = Math.max(max, p.v) }
  if (min === max) { min -= 1; max += 1 }
  const pad = (max - min) * 0.08
  return { min: min - pad, max: max + pad }
}

/** The SVG path of the line (`M`/`L`, a new `M` after a gap) and of the area under it, in viewBox units. */
export function paths (points: Point[], now: number, s: Scale): { line: string, area: string } {
  const from = now - CHART_SPAN_MS
  const x = (t: number): number => Math.max(0, Math.min(W, ((t - from) / CHART_SPAN_MS) * W))
  const y = (v: number): number => H - ((v - s.min) / (s.max - s.min)) * H
  let line = ''
  let area = ''
  let runStart = -1
  let prev: Point | undefined
  const close = (endX: number): void => {
    if (runStart >= 0) area += `L${endX.toFixed(1)},${H}L${runStart.toFixed(1)},${H}Z`
  }
  points.forEach((p, i) => {
    const px = x(p.t).toFixed(1)
    const py = y(p.v).toFixed(1)
    const next = points[i + 1]
    if (prev === undefined || p.t - prev.t > GAP_MS) {
      if (prev !== undefined) close(x(prev.t))
      // A point with no neighbour is drawn as a dot (a tiny segment with round caps).
      line += `M${px},${py}` + (next === undefined || next.t - p.t > GAP_MS ? 'l0.1,0' : '')
      area += `M${px},${H}L${px},${py}`
      runStart = x(p.t)
    } else {
      line += `L${px},${py}`
      area += `L${px},${py}`
    }
    prev = p
  })
  if (prev !== undefined) close(x(prev.t))
  return { line, area }
}

/** The last hour of one key: a hand-drawn SVG line, its range on the left, the time axis below. */
export function Chart (props: { points: Point[], now: number, unit: string | null }): preact.JSX.Element {
  const { points, now, unit } = props
  // Redrawn when the points change or the minute turns, not at every second's tick.
  const minute = Math.floor(now / 60_000)
  const drawn = useMemo(() => {
    const s = scale(points)
    const vs = points.map(p => p.v)
    return { s, hi: Math.max(...vs), lo: Math.min(...vs), ...paths(points, now, s) }
  }, [points, minute])
  if (points.length === 0) return <div class='chart chart-empty'>No readings in the last hour</div>
  const u = unit === null ? '' : ` ${unit}`
  return (
    <div class='chart'>
      <div class='chart-y'><span>{fmt(drawn.hi)}{u}</span><span>{fmt(drawn.lo)}{u}</span></div>
      <svg viewBox={`0 0 ${W} ${H}`} preserveAspectRatio='none' role='img' aria-label='last hour'>
        <line x1='0' x2={W} y1={H / 2} y2={H / 2} class='chart-grid' />
        <path d={drawn.area} class='chart-area' />
        <path d={drawn.line} class='chart-line' vector-effect='non-scaling-stroke' />
      </svg>
      <div class='chart-x'><span>−60 min</span><span>−30</span><span>now</span></div>
    </div>
  )
}
