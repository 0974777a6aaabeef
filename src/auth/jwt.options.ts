import type { JwtModuleOptions } from '@nestjs/jwt';
import type { AuthConfig } from '../config/auth.config';

/** The only algorithm accepted or produced (no `none`, no RS/HS confusion). */
export const JWT_ALGORITHM = 'HS256' as const;

export function jwtModuleOptions(config: AuthConfig): JwtModuleOptions {
  return {
    secret: config.jwtKey,
    signOptions: { algorithm: JWT_ALGORITHM, expiresIn: config.jwtExpiresIn },
    verifyOptions: { algorithms: [JWT_ALGORITHM] },
  };
}
