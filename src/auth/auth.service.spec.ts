import { EventEmitter2 } from '@nestjs/event-emitter';
import { JwtService } from '@nestjs/jwt';
import { Test } from '@nestjs/testing';
import { getRepositoryToken } from '@nestjs/typeorm';
import * as bcrypt from 'bcryptjs';
import { createSecretKey } from 'node:crypto';
import { AppException } from '../common/errors/app.exception';
import { ErrorCode } from '../common/errors/error-code';
import { authConfig } from '../config/auth.config';
import { User } from '../users/user.entity';
import { UsersService } from '../users/users.service';
import { AuthService } from './auth.service';
import { RateLimitService } from '../rate-limit/rate-limit.service';
import { jwtModuleOptions } from './jwt.options';
import { RevokedToken } from './revoked-token.entity';
import { InvalidationBus } from '../redis/invalidation-bus';
import type { AppConfig } from '../config/app.config';

const noRedis = { redisUrl: undefined } as AppConfig;

const secret = 's'.repeat(40);
const config = {
  jwtSecret: secret,
  jwtKey: createSecretKey(Buffer.from(secret)),
  jwtExpiresIn: 3600,
  bcryptRounds: 10,
};

describe('AuthService', () => {
  let service: AuthService;
  let users: jest.Mocked<
    Pick<UsersService, 'create' | 'findWithPasswordByEmail' | 'findAuthState'>
  >;
  let revoked: { exists: jest.Mock };
  let jwt: JwtService;

  beforeEach(async () => {
    users = { create: jest.fn(), findWithPasswordByEmail: jest.fn(), findAuthState: jest.fn() };
    revoked = { exists: jest.fn().mockResolvedValue(false) };
    jwt = new JwtService(jwtModuleOptions(config));
    const moduleRef = await Test.createTestingModule({
      providers: [
        AuthService,
        { provide: UsersService, useValue: users },
        { provide: JwtService, useValue: jwt },
        { provide: getRepositoryToken(RevokedToken), useValue: revoked },
        { provide: authConfig.KEY, useValue: config },
        { provide: EventEmitter2, useValue: new EventEmitter2() },
        { provide: InvalidationBus, useValue: new InvalidationBus(null, noRedis) },
        {
          provide: RateLimitService,
          useValue: { consume: jest.fn(), loginAttempt: jest.fn() },
        },
      ],
    }).compile();
    service = moduleRef.get(AuthService);
  });

  it('hashes passwords with bcrypt at the configured cost (default 10)', async () => {
    users.create.mockImplementation((input) =>
      Promise.resolve({ id: 'u1', ...input, createdAt: new Date(0) } as unknown as User),
    );
    await service.register(
      { username: 'ann', email: 'ann@example.com', password: 'password-123' },
      '127.0.0.1',
    );
    const hash = users.create.mock.calls[0][0].passwordHash;
    expect(bcrypt.getRounds(hash)).toBe(10);
    expect(await bcrypt.compare('password-123', hash)).toBe(true);
  });

  it('fails a login the same way for an unknown email and a wrong password', async () => {
    const expectLoginFailed = async () => {
      const err = await service
        .login({ email: 'x@example.com', password: 'nope-nope' }, '127.0.0.1')
        .catch((e: unknown) => e);
      expect(err).toBeInstanceOf(AppException);
      expect(err).toMatchObject({ code: ErrorCode.LoginFailed, detail: '邮箱或密码错误' });
    };
    users.findWithPasswordByEmail.mockResolvedValue(null);
    await expectLoginFailed();
    users.findWithPasswordByEmail.mockResolvedValue({
      id: 'u1',
      passwordHash: await bcrypt.hash('the-right-one', 4),
    } as User);
    await expectLoginFailed();
  });

  it('issues HS256 tokens with sub, jti and the token version', async () => {
    users.findWithPasswordByEmail.mockResolvedValue({
      id: 'u1',
      username: 'ann',
      email: 'ann@example.com',
      tokenVersion: 3,
      passwordHash: await bcrypt.hash('password-123', 4),
    } as User);
    const result = await service.login(
      { email: 'ann@example.com', password: 'password-123' },
      '127.0.0.1',
    );
    expect(result.expires_in).toBe(3600);
    const decoded = jwt.decode<Record<string, unknown>>(result.token, {
      complete: true,
    }) as unknown as {
      header: { alg: string };
      payload: Record<string, unknown>;
    };
    expect(decoded.header.alg).toBe('HS256');
    expect(decoded.payload).toMatchObject({ sub: 'u1', ver: 3, jti: expect.any(String) });
  });

  describe('verifyAccessToken', () => {
    const sign = (claims: object) => jwt.sign({ sub: 'u1', jti: 'j1', ver: 0, ...claims });

    it('accepts a valid token of an existing user', async () => {
      users.findAuthState.mockResolvedValue({ id: 'u1', tokenVersion: 0 });
      await expect(service.verifyAccessToken(sign({}))).resolves.toMatchObject({
        id: 'u1',
        jti: 'j1',
      });
    });

    it.each([
      ['a revoked jti', { revoked: true, version: 0 }, 'token revoked'],
      ['an older token version', { revoked: false, version: 1 }, 'token revoked'],
      ['a deleted user', { revoked: false, version: null }, 'user no longer exists'],
    ])('refuses %s', async (_name, state, reason) => {
      revoked.exists.mockResolvedValue(state.revoked);
      users.findAuthState.mockResolvedValue(
        state.version === null ? null : { id: 'u1', tokenVersion: state.version },
      );
      await expect(service.verifyAccessToken(sign({}))).rejects.toMatchObject({
        code: ErrorCode.Unauthorized,
        detail: reason,
      });
    });

    it('takes a token checked moments ago as is: no signature check, no database', async () => {
      users.findAuthState.mockResolvedValue({ id: 'u1', tokenVersion: 0 });
      const verify = jest.spyOn(jwt, 'verifyAsync');
      const token = sign({});
      await service.verifyAccessToken(token);
      await expect(service.verifyAccessToken(token)).resolves.toMatchObject({ id: 'u1' });
      expect(service.knownToken(token)).toMatchObject({ id: 'u1', jti: 'j1' });
      expect(verify).toHaveBeenCalledTimes(1);
      expect(users.findAuthState).toHaveBeenCalledTimes(1);
    });

    it('does not take a known token once it has expired', async () => {
      users.findAuthState.mockResolvedValue({ id: 'u1', tokenVersion: 0 });
      const nowS = Math.floor(Date.now() / 1000);
      const token = new JwtService({ secret: config.jwtKey }).sign({
        sub: 'u1',
        jti: 'j1',
        ver: 0,
        exp: nowS + 2,
      });
      await service.verifyAccessToken(token);
      jest.useFakeTimers({ now: (nowS + 2) * 1000 });
      try {
        expect(service.knownToken(token)).toBeUndefined();
        await expect(service.verifyAccessToken(token)).rejects.toMatchObject({
          detail: 'token expired',
        });
      } finally {
        jest.useRealTimers();
      }
    });

    it('checks a known token again after logout or a password change', async () => {
      users.findAuthState.mockResolvedValue({ id: 'u1', tokenVersion: 0 });
      const bus = (service as unknown as { bus: InvalidationBus }).bus;
      const token = sign({});
      const user = await service.verifyAccessToken(token);
      await bus.publish('auth.token', user.jti);
      expect(service.knownToken(token)).toBeUndefined();
      await service.verifyAccessToken(token);
      await bus.publish('auth.user', user.id);
      expect(service.knownToken(token)).toBeUndefined();
      revoked.exists.mockResolvedValue(true);
      await expect(service.verifyAccessToken(token)).rejects.toMatchObject({
        detail: 'token revoked',
      });
    });

    it('refuses tokens signed with another algorithm or secret', async () => {
      const other = new JwtService({ secret: 'o'.repeat(40) });
      await expect(
        service.verifyAccessToken(other.sign({ sub: 'u1', jti: 'j', ver: 0 })),
      ).rejects.toMatchObject({
        detail: 'invalid token',
      });
      const hs512 = jwt.sign(
        { sub: 'u1', jti: 'j', ver: 0 },
        { algorithm: 'HS512', secret: config.jwtSecret },
      );
      await expect(service.verifyAccessToken(hs512)).rejects.toMatchObject({
        detail: 'invalid token',
      });
    });
  });
});
