/**
 * GET /: one page that shows where the loss comes from (public/), built on the service's own
 * /loss/focal and /loss/compare. Its chart library, uPlot, is served straight from its npm package,
 * so the version is the lockfile's and no build step copies files around. Nothing is fetched from
 * another origin, and the Content-Security-Policy says so to the browser as well.
 */
import { existsSync, readdirSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'

import fastifyStatic from '@fastify/static'
import { Type } from '@sinclair/typebox'
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { NotFoundError } from '../src/errors.js'
import { ErrorReply } from '../schemas/common.js'
import { ROOT } from '../src/meta.js'

const PUBLIC = join(ROOT, 'public')
const UPLOT = join(dirname(createRequire(import.meta.url).resolve('uplot/package.json')), 'dist')

const CSP = "default-src 'self'; object-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

/** Asset name -> the folder it is read from; a fixed list, so no request path ever reaches the file system. */
function assetFolders (): Map<string, string> {
  const folders = new Map<string, string>()
  for (const name of readdirSync(join(PUBLIC, 'assets'))) folders.set(name, join(PUBLIC, 'assets'))
  for (const name of ['uPlot.esm.js', 'uPlot.min.css']) folders.set(name, UPLOT)
  return folders
}

const pageRoutes: FastifyPluginAsyncTypebox = async (app) => {
  // The API is the product and the page an extra: an install without public/ (an image that copies
  // only dist/) still serves the API, and says here why GET / is missing.
  if (!existsSync(join(PUBLIC, 'index.html'))) {
    app.log.warn({ folder: PUBLIC }, 'the page\'s files are missing: GET / is not served')
    return
  }
  await app.register(fastifyStatic, { serve: false })
  const folders = assetFolders()

  app.get('/', {
    schema: {
      tags: ['page'],
      summary: 'The page: focal-loss curves and a batch explorer, computed by this service',
      produces: ['text/html'],
      response: { 200: Type.String({ description: 'HTML', examples: ['<!doctype html>…'] }) }
    }
  }, async (_request, reply) => {
    reply.header('content-security-policy', CSP)
    return reply.sendFile('index.html', PUBLIC)
  })

  app.get('/assets/:file', {
    schema: {
      tags: ['page'],
      summary: 'The page\'s scripts and styles, and the chart library (uPlot)',
      params: Type.Object({ file: Type.String({ description: 'file name', examples: ['main.js'] }) }),
      produces: ['text/javascript', 'text/css', 'image/svg+xml'],
      response: {
        200: Type.String({ description: 'the file', examples: ['export function …'] }),
        404: ErrorReply
      }
    }
  }, async (request, reply) => {
    const folder = folders.get(request.params.file)
    if (folder === undefined) throw new NotFoundError(`the page has no asset named ${JSON.stringify(request.params.file)}`)
    reply.header('x-content-type-options', 'nosniff')
    return reply.sendFile(request.params.file, folder)
  })
}

export default pageRoutes
