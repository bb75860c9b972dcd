/* global fetch */
/**
 * Calls to this service's JSON API. Paths are relative to the page, so the page keeps working
 * when the service sits behind a path prefix.
 */

/** A 4xx/5xx answer: `message` is the service's own wording, shown to the user unchanged. */
export class ApiError extends Error {
  constructor (status, statusText, message) {
    super(message)
    this.status = status
    this.statusText = statusText
  }
}

let token = ''

/** The bearer token for a service started with API_TOKEN; kept in memory only. */
export function setToken (value) {
  token = value.trim()
}

/** One call to the API: the JSON answer, or an ApiError carrying the service's status and message. */
export async function requestJson (method, path, body) {
  const headers = {}
  if (body !== undefined) headers['content-type'] = 'application/json'
  if (token !== '') headers.authorization = `Bearer ${token}`
  const res = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) })
  const text = await res.text()
  let json
  try {
    json = JSON.parse(text)
  } catch {
    throw new ApiError(res.status, res.statusText, text.trim() || `${res.status} ${res.statusText}`)
  }
  if (!res.ok) throw new ApiError(res.status, json.error ?? res.statusText, typeof json.message === 'string' ? json.message : text)
  return json
}

export const postJson = (path, body) => requestJson('POST', path, body)

export const getJson = (path) => requestJson('GET', path)

/** Shows an error in `box`: the service's status line, then its message as given. */
export function showError (box, err) {
  const head = box.querySelector('.error-head')
  const message = box.querySelector('.error-message')
  if (err instanceof ApiError) {
    head.textContent = `The service answered ${err.status} ${err.statusText}:`
    message.textContent = err.message
  } else {
    head.textContent = 'The request did not reach the service:'
    message.textContent = err instanceof Error ? err.message : String(err)
  }
  box.hidden = false
}

export function clearError (box) {
  box.hidden = true
}
