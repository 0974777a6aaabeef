import { EventEmitter2 } from '@nestjs/event-emitter';
import { GroupMember } from '../src/groups/group-member.entity';
import { Group } from '../src/groups/group.entity';
import { TransactionRunner } from '../src/database/transaction-runner';
import { createTestApp, TestApp } from './support/test-app';
import { bearer, registerUser, TestUser } from './support/users';

const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const MISSING = '7d8b1a52-3f0c-4a53-9d6e-5b0f6f8f1a2b';
const FORBIDDEN = { code: 403, message: '权限不足' };

describe('Groups (e2e)', () => {
  let t: TestApp;
  let events: { name: string; payload: Record<string, unknown> }[];

  beforeAll(async () => {
    t = await createTestApp({ env: { GROUP_MAX_MEMBERS: '5' } });
    t.app.get(EventEmitter2).onAny((name: string | string[], payload: Record<string, unknown>) => {
      events.push({ name: String(name), payload });
    });
  });
  beforeEach(() => {
    events = [];
  });
  afterAll(() => t.close());

  const api = (user: TestUser) => ({
    get: (path: string) => t.http.get(`/api/v1${path}`).set(bearer(user.token)),
    post: (path: string, body: object = {}) =>
      t.http.post(`/api/v1${path}`).set(bearer(user.token)).send(body),
    put: (path: string, body: object) =>
      t.http.put(`/api/v1${path}`).set(bearer(user.token)).send(body),
    del: (path: string) => t.http.delete(`/api/v1${path}`).set(bearer(user.token)),
  });

  async function users(n: number): Promise<TestUser[]> {
    const out: TestUser[] = [];
    for (let i = 0; i < n; i += 1) out.push(await registerUser(t.http));
    return out;
  }

  /** A group owned by `owner` with the given admins and members. */
  async function group(
    owner: TestUser,
    admins: TestUser[] = [],
    members: TestUser[] = [],
  ): Promise<string> {
    const res = await api(owner).post('/group', { name: 'G', description: '' }).expect(200);
    const id: string = res.body.data.group_id;
    const all = [...admins, ...members];
    if (all.length)
      await api(owner)
        .post(`/group/${id}/members`, { user_ids: all.map((u) => u.user_id) })
        .expect(200);
    for (const a of admins)
      await api(owner).put(`/group/${id}/members/${a.user_id}/role`, { role: 'admin' }).expect(200);
    events = [];
    return id;
  }

  async function roles(groupId: string): Promise<Record<string, string>> {
    const rows = await t.dataSource.getRepository(GroupMember).findBy({ groupId });
    return Object.fromEntries(rows.map((r) => [r.userId, r.role]));
  }

  describe('POST /api/v1/group', () => {
    it('creates a group whose creator is its owner and first member', async () => {
      const [owner] = await users(1);
      const res = await api(owner)
        .post('/group', {
          name: ' 周末登山 😀 ',
          description: '每周六',
          avatar: 'https://cdn.example.com/g.png',
        })
        .expect(200);
      expect(res.body).toEqual({
        code: 200,
        message: 'success',
        data: {
          group_id: expect.stringMatching(UUID),
          name: '周末登山 😀',
          description: '每周六',
          avatar: 'https://cdn.example.com/g.png',
          creator_id: owner.user_id,
          created_at: expect.stringMatching(ISO),
        },
      });
      expect(await roles(res.body.data.group_id)).toEqual({ [owner.user_id]: 'owner' });
      expect(events).toEqual([
        {
          name: 'group.member_added',
          payload: {
            groupId: res.body.data.group_id,
            userIds: [owner.user_id],
            actorId: owner.user_id,
          },
        },
      ]);
    });

    it('counts characters, not UTF-16 units: a name of 64 emoji and 500 in the description', async () => {
      const [owner] = await users(1);
      const body = { name: '🏔'.repeat(64), description: '🗻'.repeat(500) };
      const res = await api(owner).post('/group', body).expect(200);
      expect(res.body.data).toMatchObject(body);
      const read = await api(owner).get(`/group/${res.body.data.group_id}`).expect(200);
      expect(read.body.data).toMatchObject(body);
    });

    it('answers avatar: null when none is given', async () => {
      const [owner] = await users(1);
      const res = await api(owner).post('/group', { name: 'x', description: 'y' }).expect(200);
      expect(res.body.data.avatar).toBeNull();
    });

    it.each([
      ['no name', { description: 'd' }],
      ['a blank name', { name: '   ', description: 'd' }],
      ['a 65-character name', { name: 'n'.repeat(65), description: 'd' }],
      ['a name of 65 emoji', { name: '🏔'.repeat(65), description: 'd' }],
      ['a 501-character description', { name: 'n', description: '🏔'.repeat(501) }],
      ['no description', { name: 'n' }],
      ['a bad avatar', { name: 'n', description: 'd', avatar: 'ftp://x/y.png' }],
      ['an unknown field', { name: 'n', description: 'd', owner_id: MISSING }],
    ])('refuses %s with 400 and creates nothing', async (_name, body) => {
      const [owner] = await users(1);
      const before = await t.dataSource.getRepository(Group).count();
      const res = await api(owner).post('/group', body).expect(400);
      expect(res.body).toMatchObject({
        code: 400,
        message: '请求参数错误',
        error: expect.any(String),
      });
      expect(await t.dataSource.getRepository(Group).count()).toBe(before);
    });

    it('needs a token', async () => {
      await t.http.post('/api/v1/group').send({ name: 'n', description: 'd' }).expect(401);
    });
  });

  describe('reading', () => {
    it('lists my groups with member_count and my_role, and not the others', async () => {
      const [owner, admin, member, outsider] = await users(4);
      const g1 = await group(owner, [admin], [member]);
      const g2 = await group(member);
      const mine = await api(member).get('/group').expect(200);
      expect(mine.body.data.groups).toEqual([
        expect.objectContaining({
          group_id: g2,
          member_count: 1,
          my_role: 'owner',
          creator_id: member.user_id,
        }),
        {
          group_id: g1,
          name: 'G',
          description: '',
          avatar: null,
          creator_id: owner.user_id,
          created_at: expect.stringMatching(ISO),
          member_count: 3,
          my_role: 'member',
        },
      ]);
      const adminView = await api(admin).get('/group').expect(200);
      expect(adminView.body.data.groups).toEqual([
        expect.objectContaining({ group_id: g1, my_role: 'admin' }),
      ]);
      const none = await api(outsider).get('/group').expect(200);
      expect(none.body.data).toEqual({ groups: [] });
    });

    it('shows the detail to members only', async () => {
      const [owner, member, outsider] = await users(3);
      const g = await group(owner, [], [member]);
      const res = await api(member).get(`/group/${g}`).expect(200);
      expect(res.body.data).toEqual(
        expect.objectContaining({
          group_id: g,
          member_count: 2,
          my_role: 'member',
          creator_id: owner.user_id,
        }),
      );
      expect((await api(outsider).get(`/group/${g}`).expect(403)).body).toMatchObject(FORBIDDEN);
      expect((await api(outsider).get(`/group/${MISSING}`).expect(404)).body).toEqual({
        code: 404,
        message: '资源不存在',
        error: 'group not found',
      });
      expect((await api(owner).get('/group/not-a-uuid').expect(400)).body).toEqual({
        code: 400,
        message: '请求参数错误',
        error: 'group_id must be a UUID',
      });
    });

    it('pages members oldest first with total, to members only', async () => {
      const [owner, a, b, outsider] = await users(4);
      const g = await group(owner, [a], [b]);
      const first = await api(b).get(`/group/${g}/members?limit=2&offset=0`).expect(200);
      expect(first.body.data.total).toBe(3);
      expect(first.body.data.members).toHaveLength(2);
      expect(first.body.data.members[0]).toEqual({
        user_id: owner.user_id,
        username: owner.username,
        avatar: null,
        role: 'owner',
        joined_at: expect.stringMatching(ISO),
      });
      const second = await api(b).get(`/group/${g}/members?limit=2&offset=2`).expect(200);
      expect(second.body.data.members).toHaveLength(1);
      const all = [...first.body.data.members, ...second.body.data.members].map(
        (m: { user_id: string }) => m.user_id,
      );
      expect(new Set(all)).toEqual(new Set([owner.user_id, a.user_id, b.user_id]));
      await api(outsider).get(`/group/${g}/members`).expect(403);
      await api(b).get(`/group/${g}/members?limit=101`).expect(400);
      await api(b).get(`/group/${g}/members?offset=-1`).expect(400);
    });
  });

  describe('PUT /api/v1/group/:group_id', () => {
    it('lets the owner and admins change details, and publishes group.updated', async () => {
      const [owner, admin] = await users(2);
      const g = await group(owner, [admin]);
      const res = await api(admin)
        .put(`/group/${g}`, { name: 'New name', avatar: '/api/v1/files/abc.png' })
        .expect(200);
      expect(res.body.data).toEqual(
        expect.objectContaining({
          group_id: g,
          name: 'New name',
          description: '',
          avatar: '/api/v1/files/abc.png',
          my_role: 'admin',
        }),
      );
      expect(events).toEqual([
        {
          name: 'group.updated',
          payload: {
            groupId: g,
            actorId: admin.user_id,
            changes: { name: 'New name', avatar: '/api/v1/files/abc.png' },
          },
        },
      ]);
      await api(owner).put(`/group/${g}`, { description: 'd2', avatar: null }).expect(200);
      const detail = await api(owner).get(`/group/${g}`).expect(200);
      expect(detail.body.data).toMatchObject({ name: 'New name', description: 'd2', avatar: null });
    });

    it('refuses plain members and outsiders with 403 and changes nothing', async () => {
      const [owner, member, outsider] = await users(3);
      const g = await group(owner, [], [member]);
      for (const u of [member, outsider]) {
        expect(
          (await api(u).put(`/group/${g}`, { name: 'hijack' }).expect(403)).body,
        ).toMatchObject(FORBIDDEN);
      }
      expect((await t.dataSource.getRepository(Group).findOneByOrFail({ id: g })).name).toBe('G');
      expect(events).toEqual([]);
    });

    it('validates the body', async () => {
      const [owner] = await users(1);
      const g = await group(owner);
      await api(owner).put(`/group/${g}`, { name: '' }).expect(400);
      await api(owner).put(`/group/${g}`, { name: null }).expect(400);
      await api(owner).put(`/group/${MISSING}`, { name: 'x' }).expect(404);
    });
  });

  describe('POST /api/v1/group/:group_id/members', () => {
    it('adds users idempotently and publishes only who was added', async () => {
      const [owner, a, b] = await users(3);
      const g = await group(owner);
      const first = await api(owner)
        .post(`/group/${g}/members`, { user_ids: [a.user_id] })
        .expect(200);
      expect(first.body.data).toEqual({
        group_id: g,
        added_user_ids: [a.user_id],
        member_count: 2,
      });
      const again = await api(owner)
        .post(`/group/${g}/members`, { user_ids: [a.user_id, b.user_id] })
        .expect(200);
      expect(again.body.data).toEqual({
        group_id: g,
        added_user_ids: [b.user_id],
        member_count: 3,
      });
      expect(events.map((e) => e.payload.userIds)).toEqual([[a.user_id], [b.user_id]]);
      expect(await roles(g)).toEqual({
        [owner.user_id]: 'owner',
        [a.user_id]: 'member',
        [b.user_id]: 'member',
      });
    });

    it('adds nobody when any id is unknown (404)', async () => {
      const [owner, a] = await users(2);
      const g = await group(owner);
      const res = await api(owner)
        .post(`/group/${g}/members`, { user_ids: [a.user_id, MISSING] })
        .expect(404);
      expect(res.body).toEqual({
        code: 404,
        message: '资源不存在',
        error: `users not found: ${MISSING}`,
      });
      expect(Object.keys(await roles(g))).toEqual([owner.user_id]);
      expect(events).toEqual([]);
    });

    it('lets admins add, not plain members or outsiders', async () => {
      const [owner, admin, member, outsider, x] = await users(5);
      const g = await group(owner, [admin], [member]);
      await api(admin)
        .post(`/group/${g}/members`, { user_ids: [x.user_id] })
        .expect(200);
      await api(member)
        .post(`/group/${g}/members`, { user_ids: [outsider.user_id] })
        .expect(403);
      await api(outsider)
        .post(`/group/${g}/members`, { user_ids: [outsider.user_id] })
        .expect(403);
      expect(Object.keys(await roles(g))).not.toContain(outsider.user_id);
    });

    it.each([
      ['an empty list', { user_ids: [] }],
      ['a non-UUID', { user_ids: ['abc'] }],
      ['duplicates', { user_ids: [MISSING, MISSING] }],
      ['a string', { user_ids: MISSING }],
    ])('refuses %s with 400', async (_name, body) => {
      const [owner] = await users(1);
      const g = await group(owner);
      await api(owner).post(`/group/${g}/members`, body).expect(400);
    });

    it('enforces the member limit with a clear 400 and adds nobody', async () => {
      const [owner, ...rest] = await users(6);
      const g = await group(owner, [], rest.slice(0, 3));
      const res = await api(owner)
        .post(`/group/${g}/members`, { user_ids: rest.slice(3).map((u) => u.user_id) })
        .expect(400);
      expect(res.body).toEqual({
        code: 400,
        message: '请求参数错误',
        error: 'a group has at most 5 members (it has 4, adding 2)',
      });
      expect(Object.keys(await roles(g))).toHaveLength(4);
      await api(owner)
        .post(`/group/${g}/members`, { user_ids: [rest[3].user_id] })
        .expect(200);
    });

    it('makes one membership of two simultaneous adds of the same user', async () => {
      const [owner, a] = await users(2);
      const g = await group(owner);
      const results = await Promise.all(
        [1, 2, 3].map(() => api(owner).post(`/group/${g}/members`, { user_ids: [a.user_id] })),
      );
      expect(results.map((r) => r.status)).toEqual([200, 200, 200]);
      expect(results.map((r) => r.body.data.added_user_ids.length).sort()).toEqual([0, 0, 1]);
      expect(
        await t.dataSource.getRepository(GroupMember).countBy({ groupId: g, userId: a.user_id }),
      ).toBe(1);
      expect(events.filter((e) => e.name === 'group.member_added')).toHaveLength(1);
    });
  });

  describe('DELETE /api/v1/group/:group_id/members/:user_id', () => {
    it('lets the owner remove admins and members, and publishes group.member_removed', async () => {
      const [owner, admin, member] = await users(3);
      const g = await group(owner, [admin], [member]);
      const res = await api(owner).del(`/group/${g}/members/${admin.user_id}`).expect(200);
      expect(res.body).toEqual({ code: 200, message: 'success', data: null });
      await api(owner).del(`/group/${g}/members/${member.user_id}`).expect(200);
      expect(await roles(g)).toEqual({ [owner.user_id]: 'owner' });
      expect(events).toEqual([
        {
          name: 'group.member_removed',
          payload: { groupId: g, userId: admin.user_id, actorId: owner.user_id, reason: 'removed' },
        },
        {
          name: 'group.member_removed',
          payload: {
            groupId: g,
            userId: member.user_id,
            actorId: owner.user_id,
            reason: 'removed',
          },
        },
      ]);
      // A removed member no longer reads the group.
      await api(member).get(`/group/${g}`).expect(403);
    });

    it('lets an admin remove members but not the owner or other admins', async () => {
      const [owner, admin, admin2, member] = await users(4);
      const g = await group(owner, [admin, admin2], [member]);
      await api(admin).del(`/group/${g}/members/${member.user_id}`).expect(200);
      expect(
        (await api(admin).del(`/group/${g}/members/${owner.user_id}`).expect(403)).body.error,
      ).toBe('the owner cannot be removed');
      await api(admin).del(`/group/${g}/members/${admin2.user_id}`).expect(403);
      expect(await roles(g)).toEqual({
        [owner.user_id]: 'owner',
        [admin.user_id]: 'admin',
        [admin2.user_id]: 'admin',
      });
    });

    it('refuses members and outsiders, unknown targets and self-removal', async () => {
      const [owner, member, other, outsider] = await users(4);
      const g = await group(owner, [], [member, other]);
      await api(member).del(`/group/${g}/members/${other.user_id}`).expect(403);
      await api(outsider).del(`/group/${g}/members/${other.user_id}`).expect(403);
      expect(
        (await api(owner).del(`/group/${g}/members/${outsider.user_id}`).expect(404)).body.error,
      ).toBe('user is not a member of this group');
      await api(owner).del(`/group/${g}/members/${owner.user_id}`).expect(400);
      await api(owner).del(`/group/${g}/members/nope`).expect(400);
      expect(Object.keys(await roles(g))).toHaveLength(3);
    });
  });

  describe('PUT /api/v1/group/:group_id/members/:user_id/role', () => {
    it('lets only the owner promote and demote', async () => {
      const [owner, admin, member] = await users(3);
      const g = await group(owner, [admin], [member]);
      const res = await api(owner)
        .put(`/group/${g}/members/${member.user_id}/role`, { role: 'admin' })
        .expect(200);
      expect(res.body.data).toEqual({ group_id: g, user_id: member.user_id, role: 'admin' });
      expect(events).toEqual([
        {
          name: 'group.updated',
          payload: {
            groupId: g,
            actorId: owner.user_id,
            changes: { roles: [{ userId: member.user_id, role: 'admin' }] },
          },
        },
      ]);
      await api(owner)
        .put(`/group/${g}/members/${admin.user_id}/role`, { role: 'member' })
        .expect(200);
      await api(member)
        .put(`/group/${g}/members/${admin.user_id}/role`, { role: 'admin' })
        .expect(403);
      expect(await roles(g)).toEqual({
        [owner.user_id]: 'owner',
        [admin.user_id]: 'member',
        [member.user_id]: 'admin',
      });
    });

    it('refuses owner as a role, self-change, non-members and outsiders', async () => {
      const [owner, member, outsider] = await users(3);
      const g = await group(owner, [], [member]);
      await api(owner)
        .put(`/group/${g}/members/${member.user_id}/role`, { role: 'owner' })
        .expect(400);
      await api(owner)
        .put(`/group/${g}/members/${owner.user_id}/role`, { role: 'member' })
        .expect(400);
      await api(owner)
        .put(`/group/${g}/members/${outsider.user_id}/role`, { role: 'admin' })
        .expect(404);
      await api(outsider)
        .put(`/group/${g}/members/${member.user_id}/role`, { role: 'admin' })
        .expect(403);
      expect(await roles(g)).toEqual({ [owner.user_id]: 'owner', [member.user_id]: 'member' });
    });
  });

  describe('POST /api/v1/group/:group_id/leave', () => {
    it('lets a member leave', async () => {
      const [owner, member] = await users(2);
      const g = await group(owner, [], [member]);
      const res = await api(member).post(`/group/${g}/leave`).expect(200);
      expect(res.body).toEqual({ code: 200, message: 'success', data: null });
      expect(await roles(g)).toEqual({ [owner.user_id]: 'owner' });
      expect(events).toEqual([
        {
          name: 'group.member_removed',
          payload: { groupId: g, userId: member.user_id, actorId: member.user_id, reason: 'left' },
        },
      ]);
      await api(member).post(`/group/${g}/leave`).expect(403);
    });

    it('hands ownership to the oldest admin when the owner leaves', async () => {
      const [owner, m1, a1, a2] = await users(4);
      const g = await group(owner, [], [m1]);
      await api(owner)
        .post(`/group/${g}/members`, { user_ids: [a1.user_id] })
        .expect(200);
      await api(owner)
        .post(`/group/${g}/members`, { user_ids: [a2.user_id] })
        .expect(200);
      await api(owner).put(`/group/${g}/members/${a2.user_id}/role`, { role: 'admin' }).expect(200);
      await api(owner).put(`/group/${g}/members/${a1.user_id}/role`, { role: 'admin' }).expect(200);
      events = [];
      await api(owner).post(`/group/${g}/leave`).expect(200);
      expect(await roles(g)).toEqual({
        [m1.user_id]: 'member',
        [a1.user_id]: 'owner',
        [a2.user_id]: 'admin',
      });
      expect(events.map((e) => e.name)).toEqual(['group.member_removed', 'group.updated']);
      await api(a1).put(`/group/${g}/members/${a2.user_id}/role`, { role: 'member' }).expect(200);
    });

    it('hands ownership to the oldest member when there is no admin', async () => {
      const [owner, m1, m2] = await users(3);
      const g = await group(owner);
      await api(owner)
        .post(`/group/${g}/members`, { user_ids: [m1.user_id] })
        .expect(200);
      await api(owner)
        .post(`/group/${g}/members`, { user_ids: [m2.user_id] })
        .expect(200);
      await api(owner).post(`/group/${g}/leave`).expect(200);
      expect(await roles(g)).toEqual({ [m1.user_id]: 'owner', [m2.user_id]: 'member' });
    });

    it('deletes the group when the last member leaves', async () => {
      const [owner] = await users(1);
      const g = await group(owner);
      await api(owner).post(`/group/${g}/leave`).expect(200);
      expect(await t.dataSource.getRepository(Group).existsBy({ id: g })).toBe(false);
      expect(events.map((e) => e.name)).toEqual(['group.member_removed', 'group.deleted']);
      await api(owner).get(`/group/${g}`).expect(404);
    });

    it('leaves no ownerless group when the last two members leave at once', async () => {
      for (let round = 0; round < 5; round += 1) {
        const [owner, member] = await users(2);
        const g = await group(owner, [], [member]);
        const results = await Promise.all([
          api(owner).post(`/group/${g}/leave`),
          api(member).post(`/group/${g}/leave`),
        ]);
        expect(results.map((r) => r.status)).toEqual([200, 200]);
        expect(await t.dataSource.getRepository(Group).existsBy({ id: g })).toBe(false);
        expect(await t.dataSource.getRepository(GroupMember).countBy({ groupId: g })).toBe(0);
      }
    });

    it('keeps exactly one owner when the owner and a member leave at once', async () => {
      const [owner, m1, m2] = await users(3);
      const g = await group(owner, [], [m1, m2]);
      await Promise.all([api(owner).post(`/group/${g}/leave`), api(m1).post(`/group/${g}/leave`)]);
      expect(await roles(g)).toEqual({ [m2.user_id]: 'owner' });
    });
  });

  it('never loses a write that ran beside a transaction that failed', async () => {
    const [u] = await users(1);
    const tx = t.app.get(TransactionRunner);
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const failing = tx.run(async (m) => {
      await m.query('SELECT 1');
      await gate;
      throw new Error('rolled back on purpose');
    });
    // A write from another request while that transaction is open...
    const write = t.http
      .put('/api/v1/user/profile')
      .set(bearer(u.token))
      .send({ phone: '+8613800000099' })
      .then((r) => r);
    await new Promise((r) => setTimeout(r, 50));
    release();
    await expect(failing).rejects.toThrow('rolled back on purpose');
    expect((await write).status).toBe(200);
    // ...is not part of it, and survives its rollback.
    const profile = await t.http.get('/api/v1/user/profile').set(bearer(u.token)).expect(200);
    expect(profile.body.data.phone).toBe('+8613800000099');
  });

  describe('DELETE /api/v1/group/:group_id', () => {
    it('lets only the owner delete; afterwards the group is 404 for everyone', async () => {
      const [owner, admin, member] = await users(3);
      const g = await group(owner, [admin], [member]);
      await api(admin).del(`/group/${g}`).expect(403);
      await api(member).del(`/group/${g}`).expect(403);
      const res = await api(owner).del(`/group/${g}`).expect(200);
      expect(res.body).toEqual({ code: 200, message: 'success', data: null });
      expect(events).toEqual([
        {
          name: 'group.deleted',
          payload: {
            groupId: g,
            actorId: owner.user_id,
            memberIds: expect.arrayContaining([owner.user_id, admin.user_id, member.user_id]),
          },
        },
      ]);
      for (const u of [owner, admin, member]) await api(u).get(`/group/${g}`).expect(404);
      await api(owner).del(`/group/${g}`).expect(404);
      expect(await t.dataSource.getRepository(GroupMember).countBy({ groupId: g })).toBe(0);
    });
  });
});
