/**
 * Prints a token for a user: npm run -s token -- <userId> [hours]
 * Signed with JWT_SECRET (from the environment or the env file), or in development with the secret the service
 * generated for this installation (the secrets file next to the database, created here if the service has not
 * started yet). In production (NODE_ENV=production) JWT_SECRET must be set.
 */
import { signHs256Jwt } from '@realtime-streams/gateway';
import { config as loadEnvFile } from 'dotenv';
import { secretsFileOf } from '../src/config/installation-secrets';
import { databasePathOf } from '../src/config/service.config';
import { jwtSecretOf } from '../src/config/service-secrets';

loadEnvFile({ path: process.env.REALTIME_ENV_FILE ?? '.env', quiet: true });
const [userId, hours = '12'] = process.argv.slice(2);
if (!userId || !/^[A-Za-z0-9_-]{1,64}$/.test(userId) || !/^\d+(\.\d+)?$/.test(hours) || Number(hours) <= 0) {
  console.error('usage: npm run -s token -- <userId> [hours]   (userId: 1-64 letters, digits, "_" or "-")');
  process.exit(2);
}
try {
  const secretsFile = secretsFileOf(process.env, databasePathOf(process.env));
  const jwt = jwtSecretOf(process.env, secretsFile);
  // stderr only: stdout is the token, for TOKEN=$(npm run -s token -- alice).
  if (jwt.source === 'generated')
    console.error(`Generated JWT_SECRET for this installation in ${secretsFile} (the service uses it too)`);
  const now = Math.floor(Date.now() / 1000);
  console.log(signHs256Jwt({ sub: userId, iat: now, exp: now + Math.round(Number(hours) * 3600) }, jwt.value));
} catch (error) {
  console.error(error instanceof Error ? error.message : String(error));
  process.exit(1);
}
