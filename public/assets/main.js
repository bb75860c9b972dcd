/* global document, window */
/**
 * Wires the page's three sections. `window.lossPage` holds the API's answers and the charts drawn from them
 * (`charts.*.plot.data`), so a test, or a curious user in the console, can compare them with the API.
 */
import { setToken } from './api.js'
import { curvesSection } from './curves.js'
import { explorerSection } from './explorer.js'
import { runsSection } from './runs.js'

const state = { charts: {} }
window.lossPage = state

document.querySelector('#api-token').addEventListener('input', (event) => setToken(event.target.value))
document.querySelector('#token-form').addEventListener('submit', (event) => event.preventDefault())
curvesSection(document.querySelector('#curves'), state)
explorerSection(document.querySelector('#explorer'), state)
const runs = runsSection(document.querySelector('#runs'), state)
// The runs are read at load, before a token can be typed: a new token reads them again.
document.querySelector('#api-token').addEventListener('change', () => runs.refresh())
