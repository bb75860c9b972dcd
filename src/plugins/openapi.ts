/**
 * The OpenAPI 3.1 document, generated from the routes' TypeBox schemas (@fastify/swagger), at
 * GET /docs/json and /docs/yaml, and Swagger UI at GET /docs, served from the package's own files.
 * 3.1 because its schemas are JSON Schema 2020-12: TypeBox's `type: 'null'` and `examples` are
 * valid there as they are. `x-decoded` (see schemas/common.ts) is a legal extension keyword.
 *
 * The routes' own schemas are left as they are; the document adds what is true of every route:
 * the bearer-token requirement and its 401 when API_TOKEN is set, Retry-After on 503s, and an
 * example for every request body and response that lacks one, built from the fields' examples.
 */
import { STATUS_CODES } from 'node:http'
import swagger from '@fastify/swagger'
import swaggerUi from '@fastify/swagger-ui'
import fp from 'fastify-plugin'
import { ErrorReply } from '../../schemas/common.js'
import { isCompute, isGuarded, isHealth } from './surface.js'
import { pkg } from '../meta.js'

type Schema = Record<string, any>

/** What each error status says on this service, for the error examples. */
const ERROR_MESSAGES: Record<number, string> = {
  400: 'labels[17] = 12 is outside [0, 10)',
  401: 'this route needs an Authorization: Bearer <token> header',
  404: 'model "foo" is not served; models: ce, focal',
  413: 'Request body is too large',
  415: 'unsupported content-type "text/plain": send application/json',
  422: 'the loss at [3] overflows float32; scale down the logits or weights',
  500: 'Internal Server Error',
  503: 'the server is overloaded: event-loop delay 1530 ms is above MAX_EVENT_LOOP_DELAY_MS; retry in 1 s'
}
const INFLIGHT_MESSAGE = '64 compute requests are in flight, the most this process takes (MAX_INFLIGHT); retry in 1 s'

const RETRY_AFTER = { 'retry-after': { type: 'integer', description: 'seconds after which a retry may succeed' } }

/**
 * An example value for `schema`: its own example, else one assembled from its parts; `ok` is the
 * example for booleans, false in a failure's answer (`{ ready: false }`).
 */
function exampleOf (schema: Schema, ok = true, depth = 0): unknown {
  if (Array.isArray(schema.examples) && schema.examples.length > 0) return schema.examples[0]
  if ('example' in schema) return schema.example
  if ('default' in schema) return schema.default
  if ('const' in schema) return schema.const
  if (Array.isArray(schema.enum)) return schema.enum[0]
  const choices = schema.anyOf ?? schema.oneOf
  if (Array.isArray(choices) && choices.length > 0) return exampleOf(choices[0] as Schema, ok, depth)
  const type = Array.isArray(schema.type) ? schema.type[0] : schema.type
  if (depth > 8) return null
  switch (type) {
    case 'object': {
      const out: Record<string, unknown> = {}
      const required = new Set<string>(schema.required ?? [])
      for (const [key, value] of Object.entries((schema.properties ?? {}) as Record<string, Schema>)) {
        if (required.has(key)) out[key] = exampleOf(value, ok, depth + 1)
      }
      return out
    }
    case 'array': return schema.items === undefined ? [] : [exampleOf(schema.items as Schema, ok, depth + 1)]
    case 'string': return typeof schema.description === 'string' ? schema.description.split(/[;,:]/)[0] : 'text'
    case 'integer':
    case 'number': return schema.minimum ?? 1
    case 'boolean': return ok
    default: return null
  }
}

function errorExample (status: number, schema: Schema, compute: boolean): unknown {
  const message = (compute && status === 503 ? INFLIGHT_MESSAGE : ERROR_MESSAGES[status]) ?? STATUS_CODES[status] ?? 'error'
  const fields = Object.keys(schema.properties ?? {})
  if (fields.includes('statusCode') && fields.includes('message')) return { statusCode: status, error: STATUS_CODES[status] ?? 'Error', message }
  if (fields.length === 1 && fields[0] === 'error') return { error: message }
  return exampleOf(schema, false)
}

const withExample = (schema: Schema, example: unknown): Schema =>
  Array.isArray(schema.examples) && schema.examples.length > 0 ? schema : { ...schema, examples: [example] }

export interface OpenapiOptions {
  /** API_TOKEN is set: compute routes and the runs are documented as needing it. */
  readonly auth: boolean
}

/** The V2 routes' error shape (Open Inference Protocol), for routes answering errors as `{ error }`. */
const V2_ERROR: Schema = { type: 'object', required: ['error'], properties: { error: { type: 'string' } }, description: 'What went wrong' }

/**
 * The document's view of one route: its schema plus what applies to every route, i.e. 500 on any
 * route, 503 + Retry-After wherever overload protection may answer, and 401 where a token is needed.
 */
function documented (schema: Schema, method: string, url: string, v2: boolean, auth: boolean): Schema {
  const guarded = isGuarded(method, url)
  const given = (schema.response ?? {}) as Record<string, Schema>
  const errorShape = v2 ? V2_ERROR : ErrorReply
  const all: Record<string, Schema> = { ...given }
  if (guarded && auth) all['401'] ??= errorShape
  if (!isHealth(url)) all['503'] ??= errorShape
  all['500'] ??= errorShape
  const response: Record<string, Schema> = {}
  for (const [code, body] of Object.entries(all)) {
    const status = Number(code)
    let out = withExample(body, status >= 400 ? errorExample(status, body, isCompute(method, url)) : exampleOf(body))
    if (status === 503) out = { ...out, headers: { ...RETRY_AFTER, ...out.headers } }
    if (status === 401) out = { ...out, headers: { 'www-authenticate': { type: 'string', description: 'Bearer realm="loss-service"' }, ...out.headers } }
    response[code] = out
  }
  const body = schema.body === undefined ? undefined : withExample(schema.body as Schema, exampleOf(schema.body as Schema))
  return {
    ...schema,
    ...(body === undefined ? {} : { body }),
    response,
    ...(guarded && auth ? { security: [{ bearerAuth: [] }] } : {})
  }
}

export default fp<OpenapiOptions>(async (app, { auth }) => {
  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: pkg.name,
        version: pkg.version,
        description: `${pkg.description}. Errors name the field and the index. ` +
          (auth ? 'Compute routes need `Authorization: Bearer <token>`.' : 'No authentication is configured.')
      },
      tags: [
        { name: 'loss', description: 'Score a batch (JSON API)' },
        { name: 'health', description: 'Probes and versions' },
        { name: 'operations', description: 'Metrics' }
      ],
      components: { securitySchemes: { bearerAuth: { type: 'http', scheme: 'bearer', description: 'the API_TOKEN the server was started with' } } }
    },
    transform: ({ schema, url, route }) => ({
      schema: schema === undefined ? schema : documented(schema as Schema, String(route.method), url, route.config?.errorFormat === 'v2', auth) as typeof schema,
      url
    })
  })
  await app.register(swaggerUi, { routePrefix: '/docs' })
}, { name: 'openapi' })
