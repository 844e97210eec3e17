import type { ComponentChildren } from 'preact'

const ICONS: Record<string, string> = {
  devices: 'M7 3h10v18H7zM10 6h4M10 18h4',
  telemetry: 'M3 20h18M5 16l4-6 4 3 6-8',
  relays: 'M12 3v8M7 6.5a7 7 0 1 0 10 0',
  macros: 'M4 6h10M4 12h10M4 18h6M16 14l5 3-5 3z',
  events: 'M6 16V11a6 6 0 0 1 12 0v5l2 2H4zM10 20h4',
  setup: 'M4 7h10M18 7h2M4 17h4M12 17h8M14 4v6M8 14v6',
  system: 'M6 6h12v12H6zM9 9h6v6H9zM9 2v4M15 2v4M9 18v4M15 18v4M2 9h4M2 15h4M18 9h4M18 15h4',
  logout: 'M15 4h4v16h-4M10 8l-4 4 4 4M6 12h10',
  lock: 'M7 11V8a5 5 0 0 1 10 0v3M5 11h14v10H5z',
  stop: 'M8 3h8l5 5v8l-5 5H8l-5-5V8z'
}

export function Icon (props: { name: string, size?: number }): preact.JSX.Element {
  const size = props.size ?? 24
  return (
    <svg class='icon' width={size} height={size} viewBox='0 0 24 24' aria-hidden='true'>
      <path d={ICONS[props.name]} />
    </svg>
  )
}

/** A part of the page whose data did not come: loading, failed (with why) or empty. */
export function Placeholder (props: { children: ComponentChildren, tone?: 'error' }): preact.JSX.Element {
  return <div class={`placeholder ${props.tone === 'error' ? 'placeholder-error' : ''}`}>{props.children}</div>
}

export function ViewHeader (props: { title: string, children?: ComponentChildren }): preact.JSX.Element {
  return (
    <div class='view-head'>
      <h1>{props.title}</h1>
      <div class='view-head-extra'>{props.children}</div>
    </div>
  )
}
