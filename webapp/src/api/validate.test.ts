import { describe, expect, it } from 'vitest'
import { RegisterRequestSchema, LoginRequestSchema } from '@/gen/chat/v1/auth_pb'
import { CreateRoomRequestSchema } from '@/gen/chat/v1/room_pb'
import { setLocale } from '@/i18n'
import { validateFields } from './validate'

describe('validateFields', () => {
  it('OK', () => {
    expect(validateFields(RegisterRequestSchema, { username: 'alice_1', email: 'a@example.com', password: 'longenough' })).toEqual({})
  })

  it('names each broken field in words', () => {
    setLocale('en')
    const errs = validateFields(RegisterRequestSchema, { username: 'a!', email: 'nope', password: 'short' })
    expect(errs).toEqual({
      username: 'Use 3–32 letters, digits or underscores',
      email: 'Enter a valid email address',
      password: 'Use 8–128 characters',
    })
  })

  it('speaks Chinese too', () => {
    setLocale('zh-CN')
    expect(validateFields(LoginRequestSchema, { login: '', password: 'x' }).login).toBe('必填')
    setLocale('en')
  })

  it('room names refuse control characters', () => {
    setLocale('en')
    for (const name of ['a\u0007b', 'evil\u202etxt', 'zero\u200bwidth', 'next\u0085line']) {
      expect(validateFields(CreateRoomRequestSchema, { name }).name).toBe('Use 1–64 characters, no control or invisible characters')
    }
  })
})
