/**
 * Open Inference Protocol (KServe V2 / Triton) REST payloads, field names as the protocol spells
 * them. Tensor `data` is left to the wire decoder, which checks every element while it converts.
 *
 * @see https://github.com/kserve/kserve/blob/master/docs/predict-api/v2/required_api.md
 * @see https://github.com/triton-inference-server/server/blob/main/docs/protocol/extension_binary_data.md
 */
import { Type, type Static } from '@sinclair/typebox'

/** Every V2 error: the protocol's `$inference_error_response`. */
export const V2Error = Type.Object({
  error: Type.String({ examples: ['labels[17] = 12 is outside [0, 10)'] })
}, { description: 'What went wrong, naming the input or parameter and the index' })

export const v2ErrorResponses = {
  400: V2Error,
  404: V2Error,
  413: V2Error,
  422: V2Error,
  503: V2Error
}

export const ServerMetadata = Type.Object({
  name: Type.String(),
  version: Type.String(),
  extensions: Type.Array(Type.String(), { examples: [['binary_tensor_data', 'parameters']] })
})

export const ServerLive = Type.Object({ live: Type.Boolean() })
export const ServerReady = Type.Object({ ready: Type.Boolean() })
export const ModelReady = Type.Object({ name: Type.String(), ready: Type.Boolean() })

export const TensorMetadata = Type.Object({
  name: Type.String(),
  datatype: Type.String(),
  shape: Type.Array(Type.Integer(), { description: '-1 marks a variable dimension' })
})
export type TensorMetadata = Static<typeof TensorMetadata>

export const ModelMetadata = Type.Object({
  name: Type.String(),
  versions: Type.Array(Type.String()),
  platform: Type.String(),
  inputs: Type.Array(TensorMetadata),
  outputs: Type.Array(TensorMetadata)
})
export type ModelMetadata = Static<typeof ModelMetadata>

export const ModelParams = Type.Object({
  model: Type.String({ description: 'ce, focal or compare' }),
  version: Type.Optional(Type.String({ description: 'the only version is 1' }))
})
export type ModelParams = Static<typeof ModelParams>

/** `$parameters`: name/value pairs whose values are strings, numbers or booleans. */
export const Parameters = Type.Record(Type.String(), Type.Union([Type.String(), Type.Number(), Type.Boolean()]))
export type Parameters = Static<typeof Parameters>

export const RequestInput = Type.Object({
  name: Type.String({ description: 'logits, labels, weight and pos_weight (ce, compare), alpha (focal, compare), class_counts (any)' }),
  shape: Type.Array(Type.Integer({ minimum: 0 })),
  datatype: Type.String({ description: 'logits FP32/FP64; labels INT32/INT64 (class indices) or FP32/FP64 (targets); vectors FP32/FP64; class_counts INT64/FP32/FP64' }),
  parameters: Type.Optional(Parameters),
  data: Type.Optional(Type.Unknown({ description: 'row-major values, flat or nested; left out when parameters.binary_data_size is given' }))
}, { additionalProperties: false })

export const RequestOutput = Type.Object({
  name: Type.String({
    description: 'loss, sum, normalizer (ce_ and focal_ prefixed for compare); with parameters.breakdown per_class_count and [ce_|focal_]per_class_sum, ' +
      'per_class_mean; with parameters.hardest [ce_|focal_]hardest_index, hardest_label, hardest_loss; with class_counts class_weights'
  }),
  parameters: Type.Optional(Parameters)
}, { additionalProperties: false })

export const InferRequest = Type.Object({
  id: Type.Optional(Type.String()),
  // Triton's own binary example repeats the model in the body; the URL decides.
  model_name: Type.Optional(Type.String()),
  model_version: Type.Optional(Type.String()),
  parameters: Type.Optional(Parameters),
  inputs: Type.Array(RequestInput, { minItems: 1 }),
  outputs: Type.Optional(Type.Array(RequestOutput))
}, {
  additionalProperties: false,
  description: 'JSON, or with the binary tensor data extension a JSON header followed by the tensors\' bytes (Inference-Header-Content-Length gives the header\'s length)',
  examples: [{
    id: '42',
    parameters: { reduction: 'mean' },
    inputs: [
      { name: 'logits', shape: [2, 3], datatype: 'FP32', data: [2.0, -1.0, 0.5, 0.1, 0.2, 3.0] },
      { name: 'labels', shape: [2], datatype: 'INT64', data: [0, 2] }
    ]
  }]
})
export type InferRequest = Static<typeof InferRequest>

// null only for a mean over nothing (`loss`, `per_class_mean`); fast-json-stringify serialises a
// type list without trying each branch, which matters for a [1024, 400] `none` output.
const NumberOrNull = Type.Unsafe<number | null>({ type: ['number', 'null'] })

export const ResponseOutput = Type.Object({
  name: Type.String(),
  shape: Type.Array(Type.Integer()),
  datatype: Type.String(),
  parameters: Type.Optional(Type.Object({ binary_data_size: Type.Integer() })),
  data: Type.Optional(Type.Array(NumberOrNull, { description: 'flat, row-major; absent for a binary output' }))
})
export type ResponseOutput = Static<typeof ResponseOutput>

export const InferResponse = Type.Object({
  model_name: Type.String(),
  model_version: Type.String(),
  id: Type.Optional(Type.String()),
  parameters: Type.Object({
    reduction: Type.String(),
    run_id: Type.Optional(Type.String({ description: 'a run\'s batch: the run it was added to' })),
    batch_id: Type.Optional(Type.String()),
    run_batches: Type.Optional(Type.Integer({ description: 'the run\'s batches with this one (when it was first added, for a replay)' })),
    run_rows: Type.Optional(Type.Integer({ description: 'the run\'s rows with this batch\'s' })),
    replayed: Type.Optional(Type.Boolean({ description: 'this batch id was added before with this batch: answered again, counted once' }))
  }),
  outputs: Type.Array(ResponseOutput)
}, {
  examples: [{
    model_name: 'ce',
    model_version: '1',
    id: '42',
    parameters: { reduction: 'mean' },
    outputs: [
      { name: 'loss', shape: [1], datatype: 'FP64', data: [0.0104] },
      { name: 'sum', shape: [1], datatype: 'FP64', data: [0.0208] },
      { name: 'normalizer', shape: [1], datatype: 'FP64', data: [2] }
    ]
  }]
})
export type InferResponse = Static<typeof InferResponse>
