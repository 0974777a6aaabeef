import { getMetadataStorage, IsInt, IsString, MaxLength, validate } from 'class-validator';
import { cacheValidationMetadata } from './validation-metadata-cache';

class Base {
  @IsString()
  name: unknown;
}

class Child extends Base {
  @MaxLength(3)
  code: unknown;

  @IsInt({ groups: ['strict'] })
  level: unknown;

  n: unknown;
}

const failing = async (value: object, groups?: string[]) =>
  (await validate(Object.assign(new Child(), value), groups ? { groups } : {}))
    .map((e) => e.property)
    .sort();

describe('cacheValidationMetadata', () => {
  beforeAll(() => cacheValidationMetadata());

  it("keeps a class's own and inherited rules, and hands out the same frozen list again", async () => {
    expect(await failing({ name: 1, code: 'toolong', level: 1 })).toEqual(['code', 'name']);
    expect(await failing({ name: 'a', code: 'abc', level: 1 })).toEqual([]);
    const storage = getMetadataStorage();
    const first = storage.getTargetValidationMetadatas(Child, '', false, false);
    expect(storage.getTargetValidationMetadatas(Child, '', false, false)).toBe(first);
    expect(Object.isFrozen(first)).toBe(true);
    expect(storage.groupByPropertyName(first)).toBe(storage.groupByPropertyName(first));
  });

  it('keeps the lists of other options apart (groups)', async () => {
    const value = { name: 'a', code: 'ab', level: 'x' };
    expect(await failing(value)).toEqual(['level']);
    expect(await failing(value, ['other'])).toEqual([]);
    expect(await failing(value, ['strict'])).toEqual(['level']);
    expect(await failing(value)).toEqual(['level']);
  });

  it('applies a rule registered after the class was first validated', async () => {
    expect(await failing({ name: 'a', code: 'ab', level: 1, n: 'x' })).toEqual([]);
    IsInt()(Child.prototype, 'n');
    expect(await failing({ name: 'a', code: 'ab', level: 1, n: 'x' })).toEqual(['n']);
  });

  it('is installed once', () => {
    const storage = getMetadataStorage();
    const installed = Object.getOwnPropertyDescriptor(storage, 'getTargetValidationMetadatas');
    cacheValidationMetadata();
    expect(Object.getOwnPropertyDescriptor(storage, 'getTargetValidationMetadatas')).toEqual(
      installed,
    );
  });
});
