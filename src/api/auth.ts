/**
 * Token authentication: `Authorization: Bearer <token>` or `x-api-key: <token>`, as Dokploy's
 * clients send one or the other.
 */
import type { RequestHandler } from 'express';
import type { Store } from '../store/store.js';

export function presentedToken(headers: {
  authorization?: string | undefined;
  'x-api-key'?: string | string[] | undefined;
}): string | null {
  const apiKey = headers['x-api-key'];
  if (typeof apiKey === 'string' && apiKey.length > 0) return apiKey;
  const match = /^Bearer\s+(\S+)\s*$/i.exec(headers.authorization ?? '');
  return match?.[1] ?? null;
}

export function requireToken(store: Store): RequestHandler {
  return (req, res, next) => {
    const token = presentedToken(req.headers);
    if (token !== null && token.length <= 512 && store.tokens.verify(token)) {
      next();
      return;
    }
    res.status(401).json({ message: 'Unauthorized', code: 'UNAUTHORIZED' });
  };
}
