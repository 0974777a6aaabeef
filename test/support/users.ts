import { randomBytes } from 'node:crypto';
import type TestAgent from 'supertest/lib/agent';

export interface TestUser {
  user_id: string;
  username: string;
  email: string;
  password: string;
  token: string;
}

export function uniqueName(prefix = 'u'): string {
  return `${prefix}_${randomBytes(4).toString('hex')}`;
}

/** Registers and logs in a fresh user through the public API. */
export async function registerUser(
  http: TestAgent,
  overrides: Partial<{ username: string; email: string; password: string; phone: string }> = {},
): Promise<TestUser> {
  const username = overrides.username ?? uniqueName();
  const body = {
    username,
    email: overrides.email ?? `${username.toLowerCase()}@example.com`,
    password: overrides.password ?? 'password-123',
    ...(overrides.phone ? { phone: overrides.phone } : {}),
  };
  const reg = await http.post('/api/v1/register').send(body).expect(200);
  const login = await http
    .post('/api/v1/login')
    .send({ email: body.email, password: body.password })
    .expect(200);
  return {
    user_id: reg.body.data.user_id,
    username: reg.body.data.username,
    email: reg.body.data.email,
    password: body.password,
    token: login.body.data.token,
  };
}

export const bearer = (token: string) => ({ Authorization: `Bearer ${token}` });
