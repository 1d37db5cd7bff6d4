// Browser-side checks with the same protovalidate rules the server applies,
// turned into one message per form field.
import { create, type DescMessage, type MessageInitShape } from '@bufbuild/protobuf'
import { createValidator } from '@bufbuild/protovalidate'
import { t, type MessageKey } from '@/i18n'

const validator = createValidator()

/** Words for a rule, by field and rule id; the generic ones by rule id alone. */
const ruleWords: Record<string, MessageKey> = {
  'username:string.pattern': 'rule.username',
  'email:string.email': 'rule.email',
  'email:string.email_empty': 'rule.email',
  'password:string.min_len': 'rule.passwordLength',
  'password:string.max_len': 'rule.passwordLength',
  'name:string.min_len': 'rule.roomName',
  'name:room_name.no_controls': 'rule.roomName',
  'string.min_len': 'rule.required',
  'string.max_len': 'rule.tooLong',
}

/** FieldErrors maps a field's proto name to what is wrong with it. */
export type FieldErrors = Record<string, string>

/** validateFields checks a request before it is sent; an empty result means valid. */
export function validateFields<Desc extends DescMessage>(schema: Desc, init: MessageInitShape<Desc>): FieldErrors {
  const res = validator.validate(schema, create(schema, init))
  if (res.kind !== 'invalid') return {}
  const out: FieldErrors = {}
  for (const v of res.violations) {
    const first = v.field[0]
    const field = first && 'name' in first ? first.name : ''
    if (out[field]) continue
    const key = ruleWords[`${field}:${v.ruleId}`] ?? ruleWords[v.ruleId]
    out[field] = key ? t(key) : v.message || t('rule.invalid')
  }
  return out
}
