import { Type, type Static, type TSchema } from '@sinclair/typebox'

/** The REST error shape; every 4xx and 5xx of the JSON API has it. */
export const ErrorReply = Type.Object({
  statusCode: Type.Integer({ examples: [400] }),
  error: Type.String({ examples: ['Bad Request'] }),
  message: Type.String({ examples: ['labels[17] = 12 is outside [0, 10)'] })
}, { description: 'What went wrong, naming the field and the index' })
export type ErrorReply = Static<typeof ErrorReply>

/**
 * Marks a schema as checked by the wire decoder in one pass (shape, type and finiteness of every
 * number) instead of the schema validator, which would walk every element a second time. The schema
 * stays complete for the OpenAPI document.
 */
export function Decoded<T extends TSchema> (schema: T): T {
  return { ...schema, 'x-decoded': true }
}

export const errorResponses = {
  400: ErrorReply,
  404: ErrorReply,
  409: ErrorReply,
  413: ErrorReply,
  415: ErrorReply,
  422: ErrorReply,
  503: ErrorReply
}
