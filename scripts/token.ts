/**
 * Prints a development token for a user: npm run token -- <userId> [hours]
 * Signed with JWT_SECRET (from the environment or .env), or the development secret the service uses without one.
 */
import { signHs256Jwt } from '@realtime/gateway';
import { config as loadEnvFile } from 'dotenv';
import { parseServiceEnv } from '../src/config/service.config';

loadEnvFile({ path: process.env.REALTIME_ENV_FILE ?? '.env', quiet: true });
const [userId, hours = '12'] = process.argv.slice(2);
if (!userId || !/^[A-Za-z0-9_-]{1,64}$/.test(userId)) {
  console.error('usage: npm run token -- <userId> [hours]   (userId: 1-64 letters, digits, "_" or "-")');
  process.exit(2);
}
const now = Math.floor(Date.now() / 1000);
const { jwtSecret } = parseServiceEnv(process.env);
console.log(signHs256Jwt({ sub: userId, iat: now, exp: now + Number(hours) * 3600 }, jwtSecret));
