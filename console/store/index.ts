export { openStore, StoreError, STORE_FILE, type ConsoleStore, type StoreOptions } from "./store.ts";
export { MIGRATIONS, SCHEMA_VERSION, type Migration } from "./migrations.ts";
export { recordUsage, listUsage, type UsageSnapshot, type UsageQuery } from "./usage.ts";
