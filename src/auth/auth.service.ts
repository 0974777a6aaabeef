import { Inject, Injectable } from '@nestjs/common';
import { EventEmitter2 } from '@nestjs/event-emitter';
import { JwtService } from '@nestjs/jwt';
import { InjectRepository } from '@nestjs/typeorm';
import * as bcrypt from 'bcryptjs';
import { randomUUID } from 'node:crypto';
import { LessThan, Repository } from 'typeorm';
import { AppException } from '../common/errors/app.exception';
import { ErrorCode } from '../common/errors/error-code';
import { iso } from '../common/utils/time';
import { authConfig, AuthConfig } from '../config/auth.config';
import { User } from '../users/user.entity';
import { UsersService } from '../users/users.service';
import type { AccessTokenPayload, AuthUser } from './auth-user';
import { AuthEvents, PasswordChangedEvent, TokenRevokedEvent } from './auth.events';
import { LoginResultDto, RegisteredUserDto, TokenDto } from './dto/auth-responses.dto';
import { ChangePasswordDto } from './dto/change-password.dto';
import { LoginDto } from './dto/login.dto';
import { RegisterDto } from './dto/register.dto';
import { RevokedToken } from './revoked-token.entity';
import { RateLimitService } from '../rate-limit/rate-limit.service';
import { TtlCache } from '../common/cache/ttl-cache';
import { InvalidationBus } from '../redis/invalidation-bus';

const LOGIN_FAILED = new AppException(ErrorCode.LoginFailed, '邮箱或密码错误');

/**
 * How long a checked token is trusted without asking the database again. Logout and password
 * changes remove it at once (on every instance, through Redis); this bounds only changes made
 * behind the service's back, such as a user row deleted by hand.
 */
const TOKEN_CHECK_TTL_MS = 10_000;

@Injectable()
export class AuthService {
  /** Compared against when the email is unknown, so a login takes as long either way. */
  private readonly dummyHash: string;
  /**
   * Tokens already verified and checked against the database, by the token itself: the same
   * string presented again needs neither the signature check nor the database, only its
   * expiry. (A jti is issued in exactly one token, so this is also the per-jti cache.)
   */
  private readonly checked: TtlCache<AuthUser>;

  constructor(
    private readonly users: UsersService,
    private readonly jwt: JwtService,
    @InjectRepository(RevokedToken) private readonly revoked: Repository<RevokedToken>,
    @Inject(authConfig.KEY) private readonly config: AuthConfig,
    private readonly events: EventEmitter2,
    private readonly rateLimit: RateLimitService,
    private readonly bus: InvalidationBus,
  ) {
    this.dummyHash = bcrypt.hashSync('not-a-real-password', this.config.bcryptRounds);
    this.checked = new TtlCache<AuthUser>(TOKEN_CHECK_TTL_MS, 100_000, () => bus.live);
    bus.on('auth.token', (jti) => this.checked.deleteWhere((_, user) => user.jti === jti));
    bus.on('auth.user', (userId) => this.checked.deleteWhere((_, user) => user.id === userId));
    bus.onReset(() => this.checked.clear());
  }

  /** `clientIp` identifies the caller for the registrations-per-IP budget. */
  async register(dto: RegisterDto, clientIp: string): Promise<RegisteredUserDto> {
    await this.rateLimit.consume('register', clientIp);
    const passwordHash = await bcrypt.hash(dto.password, this.config.bcryptRounds);
    const user = await this.users.create({
      username: dto.username,
      email: dto.email,
      phone: dto.phone ?? null,
      passwordHash,
    });
    return {
      user_id: user.id,
      username: user.username,
      email: user.email,
      phone: user.phone,
      created_at: iso(user.createdAt)!,
    };
  }

  /** Login attempts are limited per email and `clientIp`. */
  async login(dto: LoginDto, clientIp: string): Promise<LoginResultDto> {
    const limitKey = `${dto.email}|${clientIp}`;
    await this.rateLimit.loginAttempt(limitKey);
    const user = await this.users.findWithPasswordByEmail(dto.email);
    const ok = await bcrypt.compare(dto.password, user?.passwordHash ?? this.dummyHash);
    if (!user || !ok) throw LOGIN_FAILED;
    return {
      ...(await this.issueToken(user)),
      user: { user_id: user.id, username: user.username, email: user.email },
    };
  }

  /** Revokes the presented token; later use of it answers 401. */
  async logout(user: AuthUser): Promise<null> {
    await this.revoked
      .createQueryBuilder()
      .insert()
      .values({ jti: user.jti, userId: user.id, expiresAt: new Date(user.exp * 1000) })
      .orIgnore()
      .execute();
    await this.bus.publish('auth.token', user.jti);
    // Rows of tokens that have expired anyway are no longer needed.
    await this.revoked.delete({ expiresAt: LessThan(new Date()) });
    this.events.emit(AuthEvents.TokenRevoked, {
      userId: user.id,
      jti: user.jti,
    } satisfies TokenRevokedEvent);
    return null;
  }

  /** Changes the password, revokes every token issued before, and returns a fresh one. */
  async changePassword(authUser: AuthUser, dto: ChangePasswordDto): Promise<TokenDto> {
    const user = await this.users.findWithPasswordById(authUser.id);
    if (!user) throw AppException.unauthorized('user no longer exists');
    if (!(await bcrypt.compare(dto.old_password, user.passwordHash))) {
      throw AppException.badRequest('old_password is incorrect');
    }
    if (dto.old_password === dto.new_password) {
      throw AppException.badRequest('new_password must differ from old_password');
    }
    const hash = await bcrypt.hash(dto.new_password, this.config.bcryptRounds);
    user.tokenVersion = await this.users.setPassword(user.id, hash);
    await this.bus.publish('auth.user', user.id);
    this.events.emit(AuthEvents.PasswordChanged, {
      userId: user.id,
      tokenVersion: user.tokenVersion,
    } satisfies PasswordChangedEvent);
    return this.issueToken(user);
  }

  private async issueToken(user: Pick<User, 'id' | 'tokenVersion'>): Promise<TokenDto> {
    const payload: AccessTokenPayload = { sub: user.id, jti: randomUUID(), ver: user.tokenVersion };
    const token = await this.jwt.signAsync(payload);
    return { token, expires_in: this.config.jwtExpiresIn };
  }

  /**
   * The one token check of both transports: signature (HS256 only), expiry, the user still
   * existing, the token version (password changes) and the revocation list (logout).
   */
  async verifyAccessToken(token: string): Promise<AuthUser> {
    const known = this.knownToken(token);
    if (known) return known;
    let payload: AccessTokenPayload;
    try {
      payload = await this.jwt.verifyAsync<AccessTokenPayload>(token);
    } catch (err) {
      throw AppException.unauthorized(
        (err as Error)?.name === 'TokenExpiredError' ? 'token expired' : 'invalid token',
      );
    }
    return this.validatePayload(payload, token);
  }

  /**
   * The principal of a token this instance verified and checked within the last few seconds,
   * if it has not expired since and nothing revoked it; else `undefined` (verify it in full).
   */
  knownToken(token: string): AuthUser | undefined {
    const user = this.checked.get(token);
    // jsonwebtoken's rule: expired once the current second reaches `exp`.
    return user && Math.floor(Date.now() / 1000) < user.exp ? user : undefined;
  }

  /** Checks the claims of `token`, whose signature and expiry were already verified. */
  async validatePayload(payload: AccessTokenPayload, token: string): Promise<AuthUser> {
    if (
      typeof payload?.sub !== 'string' ||
      typeof payload.jti !== 'string' ||
      typeof payload.ver !== 'number' ||
      typeof payload.exp !== 'number'
    ) {
      throw AppException.unauthorized('invalid token');
    }
    const exp = payload.exp;
    const checked = await this.checked.getOrLoad(token, () => this.check(payload, exp));
    // A jti is only ever issued with one set of claims; a forged token would fail the signature.
    if (checked?.id !== payload.sub) throw AppException.unauthorized('invalid token');
    return checked;
  }

  /** The database half of the token check: the user exists, the token is current. */
  private async check(payload: AccessTokenPayload, exp: number): Promise<AuthUser> {
    const [user, revoked] = await Promise.all([
      this.users.findAuthState(payload.sub),
      this.revoked.exists({ where: { jti: payload.jti } }),
    ]);
    if (!user) throw AppException.unauthorized('user no longer exists');
    if (revoked || user.tokenVersion !== payload.ver) {
      throw AppException.unauthorized('token revoked');
    }
    return {
      id: user.id,
      jti: payload.jti,
      tokenVersion: payload.ver,
      exp,
    };
  }
}
