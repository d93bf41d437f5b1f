export type { Auth, AuditEntry, AuditLog, ConsoleEnv, ConsoleVariables, Principal, Role } from "./types.ts";
export { createAuth, CSRF_HEADER, SESSION_COOKIE, type AuthOptions, type ConsoleAuth } from "./auth.ts";
export { SqliteAuditLog, type AuditQuery, type AuditPage, type AuditRecord } from "./audit.ts";
export { signInSchema, resolveSecret, type SignInConfig, type SignInInput, type SecretRef } from "../../infra/config/signIn.ts";
export { ensureOrganizerPassword, setOrganizerPassword, MIN_PASSWORD_LENGTH, type PasswordSource } from "./password.ts";
export { Redactor, redactingLogger, REDACTED, type Logger } from "./redact.ts";
export { securityHeaders } from "./headers.ts";
export type { TokenInfo, TokenScope } from "./tokens.ts";
