// ../panel/admin-vehicle.test.ts again, over HTTPS/WSS with the gateway's CA trusted (#17, see helpers/panel-tls.ts).
process.env.AUTOCORE_TEST_PANEL_TLS = '1'
await import('../panel/admin-vehicle.test.js')
