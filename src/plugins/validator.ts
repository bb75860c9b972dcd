/**
 * The schema validator: TypeBox's compiler, with messages that name the field. Properties marked
 * `Decoded` are only checked to be arrays here (or arrays the body scanner already packed); the wire
 * decoder checks their elements in the same pass that converts them.
 */
import { Kind, Type, TypeRegistry, type TSchema } from '@sinclair/typebox'
import { TypeCompiler, type ValueError } from '@sinclair/typebox/compiler'
import { Value } from '@sinclair/typebox/value'
import { ValueErrorType } from '@sinclair/typebox/errors'
import type { FastifySchemaCompiler } from 'fastify'
import { PackedArray } from '../wire/json-scan.js'

const DECODED_ARRAY = 'DecodedArray'
TypeRegistry.Set(DECODED_ARRAY, (_schema, value) => Array.isArray(value) || value instanceof PackedArray)
const decodedArray = Type.Unsafe<unknown[]>({ [Kind]: DECODED_ARRAY })

/** The keys of a body schema whose arrays the wire decoder reads (the body scanner packs them). */
export function decodedKeys (schema: TSchema | undefined): Set<string> {
  const properties = (schema?.properties ?? {}) as Record<string, TSchema>
  return new Set(Object.keys(properties).filter((key) => properties[key]?.['x-decoded'] === true))
}

function shallow (schema: TSchema): TSchema {
  if (schema[Kind] !== 'Object' || schema.properties === undefined) return schema
  const properties: Record<string, TSchema> = {}
  for (const [key, value] of Object.entries(schema.properties as Record<string, TSchema>)) {
    properties[key] = value['x-decoded'] === true ? decodedArray : value
  }
  return { ...schema, properties }
}

const shown = (value: unknown): string => typeof value === 'number' ? String(value) : JSON.stringify(value) ?? String(value)

function field (error: ValueError): string {
  if (error.path === '') return 'body'
  return error.path.slice(1).split('/').map((part, i) => /^\d+$/.test(part) ? `[${part}]` : i === 0 ? part : `.${part}`).join('')
}

/**
 * What a union takes: its values when it is an enum (`must be one of "mean", "sum", "none"`);
 * otherwise the first clause of its description, which says it in words, or its branches' types.
 */
function allowed (union: TSchema): string {
  const branches = (union.anyOf ?? []) as TSchema[]
  if (branches.length > 0 && branches.every((branch) => branch[Kind] === 'Literal')) {
    return `must be one of ${branches.map((branch) => shown(branch.const)).join(', ')}`
  }
  const description = (union.description as string | undefined)?.split(';')[0]
  if (description !== undefined) return `is not valid: ${description}`
  const kinds = branches.map((branch) => KINDS[String(branch[Kind])] ?? String(branch[Kind]).toLowerCase())
  return `must be ${kinds.slice(0, -1).join(', ')}${kinds.length > 1 ? ' or ' : ''}${kinds.at(-1) ?? 'valid'}`
}

const KINDS: Readonly<Record<string, string>> = {
  String: 'a string', Number: 'a number', Integer: 'an integer', Boolean: 'a boolean', Null: 'null', Array: 'an array', Object: 'a JSON object'
}

export function describeError (error: ValueError): string {
  const name = field(error)
  switch (error.type) {
    case ValueErrorType.ObjectAdditionalProperties:
      return `${name} is not a known field`
    case ValueErrorType.ObjectRequiredProperty:
      return `${name} is required`
    case ValueErrorType.Object:
      return `${name} must be a JSON object`
    case ValueErrorType.Union:
      return `${name} = ${shown(error.value)} ${allowed(error.schema)}`
    case ValueErrorType.Literal:
      return `${name} = ${shown(error.value)} must be ${shown(error.schema.const)}`
    case ValueErrorType.Array:
    case ValueErrorType.Kind:
      return `${name} must be an array, got ${shown(error.value)}`
    case ValueErrorType.ArrayMinItems:
      return `${name} must not be empty`
    case ValueErrorType.NumberMinimum:
    case ValueErrorType.IntegerMinimum:
      return `${name} = ${shown(error.value)} must be >= ${String(error.schema.minimum)}`
    case ValueErrorType.NumberMaximum:
    case ValueErrorType.IntegerMaximum:
      return `${name} = ${shown(error.value)} must be <= ${String(error.schema.maximum)}`
    case ValueErrorType.NumberExclusiveMinimum:
      return `${name} = ${shown(error.value)} must be > ${String(error.schema.exclusiveMinimum)}`
    case ValueErrorType.NumberExclusiveMaximum:
      return `${name} = ${shown(error.value)} must be < ${String(error.schema.exclusiveMaximum)}`
    case ValueErrorType.Number:
    case ValueErrorType.Integer:
      return `${name} = ${shown(error.value)} must be a finite ${error.type === ValueErrorType.Integer ? 'integer' : 'number'}`
    default:
      return `${name} = ${shown(error.value)}: ${error.message.toLowerCase()}`
  }
}

export class SchemaError extends Error {
  readonly statusCode = 400
  constructor (message: string, readonly validationContext: string) {
    super(message)
  }
}

export const validatorCompiler: FastifySchemaCompiler<TSchema> = ({ schema, httpPart }) => {
  const check = TypeCompiler.Compile(shallow(schema))
  // Query strings arrive as text: `?limit=2` is read as the number the schema asks for.
  const convert = httpPart === 'querystring' ? (data: unknown) => Value.Convert(schema, data) : (data: unknown) => data
  return (raw: unknown) => {
    const data = convert(raw)
    if (check.Check(data)) return { value: data }
    const first = check.Errors(data).First()
    const message = first === undefined ? `invalid ${httpPart ?? 'request'}` : describeError(first)
    return { error: new SchemaError(httpPart === 'body' || httpPart === undefined ? message : `${httpPart} ${message}`, httpPart ?? 'body') }
  }
}
