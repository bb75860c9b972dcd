import neostandard from 'neostandard'

export default [
  ...neostandard({
    ts: true,
    ignores: ['dist/**', 'node_modules/**', 'public/vendor/**']
  }),
  {
    // TypeBox's idiom: a schema and its Static<> type share one name.
    rules: { '@typescript-eslint/no-redeclare': 'off' }
  }
]
