/** Published when tokens die before their expiry, so open sockets using them are closed. */
export const AuthEvents = {
  TokenRevoked: 'auth.token_revoked',
  PasswordChanged: 'auth.password_changed',
} as const;

export interface TokenRevokedEvent {
  userId: string;
  jti: string;
}

/** Every token of the user with a version below `tokenVersion` is now invalid. */
export interface PasswordChangedEvent {
  userId: string;
  tokenVersion: number;
}
