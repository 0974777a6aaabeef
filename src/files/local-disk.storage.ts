import { createReadStream } from 'node:fs';
import { mkdir, rename, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { FileStorage } from './file-storage';

/** Files in one folder, written atomically (temporary file + rename). */
export class LocalDiskStorage implements FileStorage {
  constructor(private readonly dir: string) {}

  async put(key: string, data: Buffer): Promise<void> {
    await mkdir(this.dir, { recursive: true });
    const tmp = join(this.dir, `.${key}.tmp`);
    await writeFile(tmp, data, { mode: 0o640 });
    await rename(tmp, join(this.dir, key));
  }

  async open(key: string) {
    const path = join(this.dir, key);
    try {
      const info = await stat(path);
      if (!info.isFile()) return null;
      return { stream: createReadStream(path), size: info.size };
    } catch {
      return null;
    }
  }
}
