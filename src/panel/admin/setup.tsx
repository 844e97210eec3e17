import { useState } from 'preact/hooks'
import { ViewHeader } from '../components/ui.js'
import type { Panel } from '../controller.js'
import type { PanelState } from '../model.js'
import { DevicesAdmin } from './devices-admin.js'
import { MacrosAdmin } from './macros-admin.js'
import { RelaysAdmin } from './relays-admin.js'
import { ScreensAdmin } from './screens-admin.js'
import { ThemesAdmin } from './themes-admin.js'
import { UsersAdmin } from './users-admin.js'
import { WebhooksAdmin } from './webhooks-admin.js'

const TABS = [
  { id: 'devices', label: 'Devices' },
  { id: 'relays', label: 'Relay channels' },
  { id: 'screens', label: 'Screens' },
  { id: 'themes', label: 'Themes' },
  { id: 'macros', label: 'Macros' },
  { id: 'users', label: 'Users' },
  { id: 'webhooks', label: 'Webhooks' }
] as const
type TabId = typeof TABS[number]['id']

/** The admin's setup of the vehicle, one tab per resource. */
export function SetupView (props: { panel: Panel, state: PanelState }): preact.JSX.Element {
  const [tab, setTab] = useState<TabId>('devices')
  return (
    <section>
      <ViewHeader title='Setup' />
      <div class='tabs' role='tablist' aria-label='what to set up'>
        {TABS.map(t => (
          <button
            key={t.id} role='tab' class='tab' data-tab={t.id} aria-selected={tab === t.id}
            onClick={() => setTab(t.id)}
          >{t.label}
          </button>
        ))}
      </div>
      <div role='tabpanel' data-testid={`setup-tab-${tab}`}>
        {tab === 'devices' ? <DevicesAdmin {...props} /> : null}
        {tab === 'relays' ? <RelaysAdmin {...props} /> : null}
        {tab === 'screens' ? <ScreensAdmin {...props} /> : null}
        {tab === 'themes' ? <ThemesAdmin {...props} /> : null}
        {tab === 'macros' ? <MacrosAdmin {...props} /> : null}
        {tab === 'users' ? <UsersAdmin {...props} /> : null}
        {tab === 'webhooks' ? <WebhooksAdmin {...props} /> : null}
      </div>
    </section>
  )
}
