import type { ColumnOptions, ValueTransformer } from 'typeorm'

// PostgreSQL hands int8 back as a string because it may exceed 2^53; epoch milliseconds never do,
// so every timestamp hydrates as a plain number on both drivers.
const bigintAsNumber: ValueTransformer = {
  to: (value: unknown) => value,
  from: (value: unknown) => (value === null || value === undefined ? value : Number(value)),
}

/** A timestamp in epoch milliseconds. Spread it and add `name` (and `nullable`) per column. */
export const epochMs = { type: 'bigint', transformer: bigintAsNumber } as const satisfies ColumnOptions

/** 'real' is 4 bytes on PostgreSQL; 'double precision' is 8 bytes on both drivers. */
export const double = { type: 'double precision' } as const satisfies ColumnOptions
