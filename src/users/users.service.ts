import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { randomUUID } from 'node:crypto';
import { Repository } from 'typeorm';
import { AppException } from '../common/errors/app.exception';
import { iso, now } from '../common/utils/time';
import { isUniqueViolation } from '../database/errors';
import { TtlCache } from '../common/cache/ttl-cache';
import {
  ProfileDto,
  PublicProfileDto,
  UpdatedProfileDto,
  UserSearchResultDto,
} from './dto/user-responses.dto';
import { UpdateProfileDto } from './dto/update-profile.dto';
import { PresenceService } from './presence.service';
import { User } from './user.entity';

export interface NewUser {
  username: string;
  email: string;
  phone: string | null;
  passwordHash: string;
}

/** The case-insensitive key of a username. */
export function usernameKey(username: string): string {
  return username.toLowerCase();
}

/**
 * How long a user id is known to exist without asking again (asked on every private message).
 * Accounts are never deleted through the API; this bounds only rows removed by hand.
 */
const EXISTS_TTL_MS = 10_000;

@Injectable()
export class UsersService {
  private readonly known = new TtlCache<true>(EXISTS_TTL_MS, 100_000);

  constructor(
    @InjectRepository(User) private readonly users: Repository<User>,
    private readonly presence: PresenceService,
  ) {}

  /** Creates a user; 409 when the email or the username is taken (also under a race). */
  async create(input: NewUser): Promise<User> {
    await this.assertAvailable(input.email, input.username);
    const at = now();
    const user = this.users.create({
      id: randomUUID(),
      username: input.username,
      usernameKey: usernameKey(input.username),
      email: input.email,
      phone: input.phone,
      avatar: null,
      passwordHash: input.passwordHash,
      tokenVersion: 0,
      lastSeenAt: null,
      createdAt: at,
      updatedAt: at,
    });
    try {
      await this.users.insert(user);
    } catch (err) {
      if (isUniqueViolation(err)) {
        await this.assertAvailable(input.email, input.username);
        throw AppException.conflict('email or username already taken');
      }
      throw err;
    }
    return user;
  }

  private async assertAvailable(email: string, username: string): Promise<void> {
    if (await this.users.exists({ where: { email } })) {
      throw AppException.conflict('email already registered');
    }
    if (await this.users.exists({ where: { usernameKey: usernameKey(username) } })) {
      throw AppException.conflict('username already taken');
    }
  }

  /** The user with the password hash, for checking credentials. */
  findWithPasswordByEmail(email: string): Promise<User | null> {
    return this.users
      .createQueryBuilder('u')
      .addSelect('u.passwordHash')
      .where('u.email = :email', { email })
      .getOne();
  }

  findWithPasswordById(id: string): Promise<User | null> {
    return this.users
      .createQueryBuilder('u')
      .addSelect('u.passwordHash')
      .where('u.id = :id', { id })
      .getOne();
  }

  /** What token verification needs: existence and the token version. */
  findAuthState(id: string): Promise<Pick<User, 'id' | 'tokenVersion'> | null> {
    return this.users.findOne({
      where: { id },
      select: { id: true, tokenVersion: true },
    });
  }

  /** Sets a new password hash and invalidates every token issued before. */
  async setPassword(id: string, passwordHash: string): Promise<number> {
    await this.users
      .createQueryBuilder()
      .update(User)
      .set({ passwordHash, tokenVersion: () => 'token_version + 1', updatedAt: now() })
      .where('id = :id', { id })
      .execute();
    const state = await this.findAuthState(id);
    if (!state) throw AppException.unauthorized('user no longer exists');
    return state.tokenVersion;
  }

  async getProfile(id: string): Promise<ProfileDto> {
    return toProfile(await this.getOrFail(id));
  }

  async updateProfile(id: string, dto: UpdateProfileDto): Promise<UpdatedProfileDto> {
    const user = await this.getOrFail(id);
    const changes: Partial<User> = {};
    if (dto.username !== undefined && dto.username !== user.username) {
      const key = usernameKey(dto.username);
      if (key !== user.usernameKey) {
        const taken = await this.users.findOne({
          where: { usernameKey: key },
          select: { id: true },
        });
        if (taken && taken.id !== id) throw AppException.conflict('username already taken');
      }
      changes.username = dto.username;
      changes.usernameKey = key;
    }
    if (dto.avatar !== undefined && dto.avatar !== user.avatar) changes.avatar = dto.avatar;
    if (dto.phone !== undefined && dto.phone !== user.phone) changes.phone = dto.phone;

    if (Object.keys(changes).length > 0) {
      changes.updatedAt = now();
      try {
        await this.users.update({ id }, changes);
      } catch (err) {
        if (isUniqueViolation(err)) throw AppException.conflict('username already taken');
        throw err;
      }
      Object.assign(user, changes);
    }
    return {
      user_id: user.id,
      username: user.username,
      avatar: user.avatar,
      phone: user.phone,
      updated_at: iso(user.updatedAt)!,
    };
  }

  async getPublicProfile(id: string): Promise<PublicProfileDto> {
    const user = await this.getOrFail(id);
    return this.toPublicProfile(user, await this.presence.isOnline(id));
  }

  /** Username prefix (case-insensitive) or, for a keyword with `@`, an exact email. */
  async search(keyword: string, limit: number): Promise<UserSearchResultDto> {
    const query = this.users.createQueryBuilder('u');
    if (keyword.includes('@')) {
      query.where('u.email = :email', { email: keyword.toLowerCase() });
    } else {
      // A key range rather than LIKE: an index range scan on every driver, no wildcards.
      const prefix = usernameKey(keyword);
      query
        .where('u.username_key >= :prefix AND u.username_key < :end', {
          prefix,
          end: `${prefix}\u{10FFFF}`,
        })
        .orderBy('u.username_key', 'ASC');
    }
    const users = await query.limit(limit).getMany();
    const online = await this.presence.onlineAmong(users.map((u) => u.id));
    return { users: users.map((u) => this.toPublicProfile(u, online.has(u.id))) };
  }

  async exists(id: string): Promise<boolean> {
    const found = await this.known.getOrLoad(id, async () =>
      (await this.users.exists({ where: { id } })) ? true : undefined,
    );
    return found === true;
  }

  /** Public profiles of users read elsewhere (e.g. joined into a list), keyed by id. */
  async publicProfiles(users: PublicUser[]): Promise<Map<string, PublicProfileDto>> {
    if (users.length === 0) return new Map();
    const online = await this.presence.onlineAmong(users.map((u) => u.id));
    return new Map(users.map((u) => [u.id, this.toPublicProfile(u, online.has(u.id))]));
  }

  /** Records when a user's last socket closed. */
  async setLastSeen(id: string, at: Date): Promise<void> {
    await this.users.update({ id }, { lastSeenAt: at });
  }

  private async getOrFail(id: string): Promise<User> {
    const user = await this.users.findOne({ where: { id } });
    if (!user) throw AppException.notFound('user not found');
    return user;
  }

  private toPublicProfile(user: PublicUser, online: boolean): PublicProfileDto {
    return {
      user_id: user.id,
      username: user.username,
      avatar: user.avatar,
      online,
      last_seen_at: iso(user.lastSeenAt),
    };
  }
}

/** What a public profile shows of a user, besides presence. */
export type PublicUser = Pick<User, 'id' | 'username' | 'avatar' | 'lastSeenAt'>;

export function toProfile(user: User): ProfileDto {
  return {
    user_id: user.id,
    username: user.username,
    email: user.email,
    phone: user.phone,
    avatar: user.avatar,
    created_at: iso(user.createdAt)!,
    updated_at: iso(user.updatedAt)!,
  };
}
