import qrcode from 'qrcode-generator'
import { useState } from 'preact/hooks'
import { Section } from './forms.js'

/** What a device (or a phone / setup tool reading the QR code) needs to connect: shown once, with the secret. */
export interface Provisioning {
  gateway: string
  port: number
  tls_port?: number
  uuid: string
  secret: string
  ca?: string
}

export function provisioningText (p: Provisioning): string {
  return JSON.stringify(p, null, 2)
}

/** The QR code as one SVG path (no canvas, no image file): dark modules as unit squares. */
export function QrCode (props: { text: string, label: string }): preact.JSX.Element {
  // L: the CA makes the block long; the code is read off a screen, not a scratched sticker.
  const qr = qrcode(0, props.text.length > 600 ? 'L' : 'M')
  qr.addData(props.text, 'Byte')
  qr.make()
  const n = qr.getModuleCount()
  let d = ''
  for (let r = 0; r < n; r++) for (let c = 0; c < n; c++) if (qr.isDark(r, c)) d += `M${c + 4} ${r + 4}h1v1h-1z`
  return (
    <svg class='qr' viewBox={`0 0 ${n + 8} ${n + 8}`} role='img' aria-label={props.label} data-testid='provisioning-qr'>
      <rect width={n + 8} height={n + 8} fill='#fff' />
      <path d={d} fill='#000' shape-rendering='crispEdges' />
    </svg>
  )
}

export function ProvisioningBlock (props: { p: Provisioning, onClose: () => void }): preact.JSX.Element {
  const text = provisioningText(props.p)
  const [copied, setCopied] = useState<string | null>(null)
  const copy = (): void => {
    navigator.clipboard?.writeText(text).then(() => setCopied('Copied'), () => setCopied('Select the text and copy it'))
  }
  return (
    <Section title={`Provisioning: ${props.p.uuid}`} testid='provisioning'>
      <p class='notice' role='status'>The secret is shown only now. Copy it into the device, or scan the code.</p>
      <div class='provisioning'>
        <pre class='provisioning-text' data-testid='provisioning-text' tabIndex={0}>{text}</pre>
        <QrCode text={text} label={`QR code of the provisioning block of ${props.p.uuid}`} />
      </div>
      <div class='row-actions'>
        <button class='btn btn-primary' data-testid='provisioning-copy' onClick={copy}>Copy</button>
        <button class='btn' data-testid='provisioning-close' onClick={props.onClose}>Done</button>
        {copied === null ? null : <span class='hint' role='status'>{copied}</span>}
      </div>
    </Section>
  )
}
