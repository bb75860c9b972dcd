import { sqlite } from './backends.js'
import { storeSuite } from './suite.js'

storeSuite(sqlite)
