/** The authenticated principal of a request or socket, as verified from its token. */
export interface AuthUser {
  id: string;
  /** The token's id (for logout). */
  jti: string;
  /** The user's token version the token was issued under (password changes bump it). */
  tokenVersion: number;
  /** The token's expiry, seconds since the epoch. */
  exp: number;
}

/** The claims this service puts in its access tokens. */
export interface AccessTokenPayload {
  sub: string;
  jti: string;
  ver: number;
  iat?: number;
  exp?: number;
}
