import fp from 'fastify-plugin'
import sjson from 'secure-json-parse'
import { InvalidInputError } from '../errors.js'

/**
 * application/json with messages a client can act on. Same parser as Fastify's own
 * (secure-json-parse), rejecting `__proto__` and `constructor.prototype` keys.
 */
export default fp(async (app) => {
  app.removeContentTypeParser('application/json')
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (_request, body, done) => {
    const text = body as string
    if (text.length === 0) {
      done(new InvalidInputError('body is empty; expected a JSON object'), undefined)
      return
    }
    try {
      done(null, sjson.parse(text, undefined, { protoAction: 'error', constructorAction: 'error' }))
    } catch (err) {
      const reason = err instanceof Error ? err.message : String(err)
      done(new InvalidInputError(/prototype/.test(reason)
        ? 'body contains a forbidden "__proto__" or "constructor.prototype" key'
        : `body is not valid JSON: ${reason}`), undefined)
    }
  })
}, { name: 'json-body' })
