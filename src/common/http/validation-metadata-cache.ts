import { getMetadataStorage, MetadataStorage } from 'class-validator';

type ValidationMetadata = ReturnType<MetadataStorage['getTargetValidationMetadatas']>[number];

type Grouped = Record<string, ValidationMetadata[]>;

const CACHED = Symbol('validation metadata cached');

/**
 * class-validator looks a class's rules up anew on every validation: it filters the class's
 * own, scans every decorated class of the application for its ancestors, then groups the result
 * by property (typestack/class-validator#2686). A class's rules are all registered when its
 * module loads, before anything can be validated against it, so both lookups are kept per class
 * and per set of options. Registering a rule or a schema later empties what was kept.
 *
 * The results are frozen: class-validator only reads them, and they are shared between calls.
 */
export function cacheValidationMetadata(storage: MetadataStorage = getMetadataStorage()): void {
  const patched = storage as MetadataStorage & { [CACHED]?: true };
  if (patched[CACHED]) return;
  patched[CACHED] = true;

  let targets = new WeakMap<object, Map<string, ValidationMetadata[]>>();
  let grouped = new WeakMap<ValidationMetadata[], Grouped>();
  const lookUp = storage.getTargetValidationMetadatas.bind(storage);
  const group = storage.groupByPropertyName.bind(storage);

  storage.getTargetValidationMetadatas = (target, schema, always, strictGroups, groups) => {
    // No schema, no groups (an empty list is none), defaults: what every validation here uses.
    const key =
      !schema && !always && !strictGroups && !groups?.length
        ? ''
        : JSON.stringify([schema ?? null, !!always, !!strictGroups, groups ?? []]);
    let byOptions = targets.get(target);
    if (!byOptions) targets.set(target, (byOptions = new Map<string, ValidationMetadata[]>()));
    let found = byOptions.get(key);
    if (!found) {
      found = Object.freeze(
        lookUp(target, schema, always, strictGroups, groups),
      ) as ValidationMetadata[];
      byOptions.set(key, found);
    }
    return found;
  };

  storage.groupByPropertyName = (metadata) => {
    if (!Object.isFrozen(metadata)) return group(metadata);
    let found = grouped.get(metadata);
    if (!found) {
      found = group(metadata);
      for (const rules of Object.values(found)) Object.freeze(rules);
      grouped.set(metadata, Object.freeze(found));
    }
    return found;
  };

  for (const method of [
    'addValidationMetadata',
    'addConstraintMetadata',
    'addValidationSchema',
  ] as const) {
    const add = (storage[method] as (arg: unknown) => void).bind(storage);
    (storage as unknown as Record<string, (arg: unknown) => void>)[method] = (arg) => {
      targets = new WeakMap();
      grouped = new WeakMap();
      add(arg);
    };
  }
}
