import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { generatedSecretPath, loadOrCreateSecret } from './auth.config';

describe('generated JWT secret', () => {
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'im-secret-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('is kept beside the SQLite file', () => {
    expect(generatedSecretPath('sqlite:/srv/app/db/chat.sqlite')).toBe('/srv/app/db/jwt-secret');
    expect(generatedSecretPath('mysql://root@localhost/db')).toBe(resolve('data', 'jwt-secret'));
  });

  it('is generated once, private to the owner, and reused', () => {
    const path = join(dir, 'sub', 'jwt-secret');
    const first = loadOrCreateSecret(path);
    expect(first.length).toBeGreaterThanOrEqual(32);
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(loadOrCreateSecret(path)).toBe(first);
    expect(readFileSync(path, 'utf8').trim()).toBe(first);
  });
});
