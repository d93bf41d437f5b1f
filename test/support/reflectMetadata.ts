// The Reflect metadata API that @peculiar/x509's dependency injection
// (tsyringe) insists on finding at load time. The maintained polyfill is the
// `reflect-metadata` package, which is not installed in this tree yet (asked
// for); until then this is the part of its contract tsyringe uses:
// defineMetadata, getOwnMetadata, and getMetadata looking up the prototype
// chain. @peculiar/x509 resolves its services by token and stores no
// constructor metadata, so these answer as reflect-metadata would.
// Import before @peculiar/x509. Replace with `import "reflect-metadata"`.
type Store = WeakMap<object, Map<unknown, unknown>>;
const store: Store = new WeakMap();

const own = (target: object, create: boolean): Map<unknown, unknown> | undefined => {
  let map = store.get(target);
  if (!map && create) store.set(target, (map = new Map()));
  return map;
};

const R = Reflect as unknown as Record<string, unknown>;
if (typeof R.getMetadata !== "function") {
  R.defineMetadata = (key: unknown, value: unknown, target: object) => void own(target, true)!.set(key, value);
  R.getOwnMetadata = (key: unknown, target: object) => own(target, false)?.get(key);
  R.getMetadata = (key: unknown, target: object): unknown => {
    for (let t: object | null = target; t !== null; t = Object.getPrototypeOf(t) as object | null) {
      const map = own(t, false);
      if (map?.has(key)) return map.get(key);
    }
    return undefined;
  };
}
