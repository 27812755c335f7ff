/**
 * The admin token. An operator-given API_TOKEN is accepted as it is; otherwise one is generated
 * on first start and written to `<DATA_DIR>/admin-token` (mode 0600). Deleting that file and
 * restarting rotates it. The token itself is never logged, only the file's path.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Logger } from './logger.js';
import type { Store } from './store/store.js';
import { generateToken } from './store/tokens.js';

export const ADMIN_TOKEN_FILE = 'admin-token';
const ENV_TOKEN_NAME = 'admin (API_TOKEN)';
const FILE_TOKEN_NAME = 'admin (file)';

export function ensureAdminToken(
  store: Store,
  options: { apiToken: string | null; dataDir: string },
  logger: Logger,
): void {
  if (options.apiToken !== null) {
    store.tokens.put(ENV_TOKEN_NAME, options.apiToken);
  } else {
    store.tokens.remove(ENV_TOKEN_NAME);
  }

  const file = path.join(options.dataDir, ADMIN_TOKEN_FILE);
  if (options.apiToken !== null) return;
  if (fs.existsSync(file) && store.tokens.has(FILE_TOKEN_NAME)) {
    logger.info({ tokenFile: file }, 'admin token is in the token file');
    return;
  }

  const token = generateToken();
  fs.mkdirSync(options.dataDir, { recursive: true, mode: 0o700 });
  fs.writeFileSync(file, `${token}\n`, { mode: 0o600 });
  fs.chmodSync(file, 0o600);
  store.tokens.put(FILE_TOKEN_NAME, token);
  logger.info({ tokenFile: file }, 'generated an admin token and wrote it to the token file');
}
