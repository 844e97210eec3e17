// The signals of a simulated sensor board (engine, electrical): smooth, quantized as a real sensor reports them.

export interface Reading { value: number, unit: string }

/** One signal of a sensor board: its unit, its quantum, and its value at `t` seconds since the board started. */
export interface Signal { key: string, unit: string, step: number, at: (t: number, phase: number) => number }

const wave = (t: number, period: number, phase: number): number => Math.sin(2 * Math.PI * (t / period + phase))
const clamp = (v: number, lo: number, hi: number): number => Math.min(hi, Math.max(lo, v))
/** The engine's speed over a slow drive cycle: idle, then cruising, then idle again (about 3 minutes). */
const rpm = (t: number, phase: number): number =>
  800 + 1400 * Math.max(0, wave(t, 180, phase)) ** 2 + 40 * wave(t, 23, phase)
/** Engine warm-up: from 20 °C towards 88 °C over a few minutes, with the thermostat's swing once warm. */
const warmUp = (t: number, p: number): number => {
  const warm = 1 - Math.exp(-t / 240)
  return 20 + 68 * warm + 1.5 * wave(t, 97, p) * warm
}

/**
 * The engine bay of a vehicle on a slow drive cycle. Each signal is a smooth function of time (warm-up curves,
 * drive cycles, slow drains), quantized as the sensor's ADC or the ECU would report it: a chart of it looks like a
 * vehicle, not noise, and two runs with the same phase give the same readings.
 */
export const ENGINE_SIGNALS: Signal[] = [
  { key: 'rpm', unit: 'rpm', step: 10, at: rpm },
  { key: 'coolant_temp', unit: '°C', step: 0.5, at: warmUp },
  { key: 'oil_pressure', unit: 'bar', step: 0.1, at: (t, p) => 1.0 + rpm(t, p) / 1000 * 1.1 },
  {
    key: 'battery_voltage',
    unit: 'V',
    step: 0.05,
    at: (t, p) => rpm(t, p) > 600 ? 14.1 - 0.15 * wave(t, 300, p) : 12.6
  },
  { key: 'fuel_level', unit: '%', step: 0.5, at: (t, p) => clamp(78 - 20 * p - t / 120, 5, 100) },
  { key: 'cabin_temp', unit: '°C', step: 0.1, at: (t, p) => 21 + 2 * wave(t, 600, p) }
]

/** A quantized reading: the nearest multiple of `step`, without binary-fraction tails (0.30000000000000004). */
export function quantize (value: number, step: number): number {
  const decimals = Math.max(0, -Math.floor(Math.log10(step)) + 1)
  return Number((Math.round(value / step) * step).toFixed(decimals))
}

export function sample (signals: Signal[], t: number, phase: number): Record<string, Reading> {
  return Object.fromEntries(signals.map(s => [s.key, { value: quantize(s.at(t, phase), s.step), unit: s.unit }]))
}
