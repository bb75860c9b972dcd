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

/*
 * Reply fields that take one of several types. fast-json-stringify serialises an `anyOf` by running
 * a compiled validator per branch and value (a per-class reply of 400 classes ran 800 of them); a
 * list of types is one `typeof` check. Request bodies keep their unions: the validator's messages
 * name the allowed values.
 */
type Options = Record<string, unknown>

/** `number | null`, as OpenAPI 3.1 writes it. */
export const NumberOrNull = (options: Options = {}) => Type.Unsafe<number | null>({ type: ['number', 'null'], ...options })

/** `string | null`. */
export const StringOrNull = (options: Options = {}) => Type.Unsafe<string | null>({ type: ['string', 'null'], ...options })

/** One of the strings `values`. */
export const OneOf = <T extends string>(values: readonly T[], options: Options = {}) => Type.Unsafe<T>({ type: 'string', enum: values, ...options })

/** A row index: n, or [n, t] for temporal input. */
export const RowIndex = (options: Options = {}) => Type.Unsafe<number | [number, number]>({
  type: ['integer', 'array'], items: { type: 'integer' }, minItems: 2, maxItems: 2, ...options
})
