/** How V2 spells the JSON API's field names in messages: its own parameter and input names. */
import type { Namer } from '../../losses/index.js'
import { METRICS_V2_NAMES } from './metric-outputs.js'

/** The JSON API's field names that V2 spells as its own parameters and inputs. */
const V2_NAMES: Readonly<Record<string, string>> = {
  posWeight: 'pos_weight',
  labelSmoothing: 'label_smoothing',
  ignoreIndex: 'ignore_index',
  classBalance: 'class_counts',
  'classBalance.counts': 'class_counts',
  'classBalance.beta': 'parameters.class_balance_beta',
  hardest: 'parameters.hardest',
  ...METRICS_V2_NAMES
}

export const v2Name: Namer = (field) => V2_NAMES[field] ?? field
