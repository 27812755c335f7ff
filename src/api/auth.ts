/**
 * Token authentication: `Authorization: Bearer <token>` or `x-api-key: <token>`, as Dokploy's
 * clients send one or the other.
 */
import type { RequestHandler } from 'express';
import type { Store } from '../store/store.js';
import { sendError, TRPC_PREFIX } from './errors.js';

/** Every token the request presents; it is let in when any of them is valid. */
export function presentedTokens(headers: {
  authorization?: string | undefined;
  'x-api-key'?: string | string[] | undefined;
}): string[] {
  const tokens: string[] = [];
  const apiKey = headers['x-api-key'];
  if (typeof apiKey === 'string' && apiKey.length > 0) tokens.push(apiKey);
  const bearer = /^Bearer\s+(\S+)\s*$/i.exec(headers.authorization ?? '')?.[1];
  if (bearer) tokens.push(bearer);
  return tokens;
}

export function requireToken(store: Store): RequestHandler {
  return (req, res, next) => {
    const tokens = presentedTokens(req.headers);
    if (tokens.some((token) => token.length <= 512 && store.tokens.verify(token))) {
      next();
      return;
    }
    const body = { message: 'Unauthorized', code: 'UNAUTHORIZED' } as const;
    if (req.path.startsWith(TRPC_PREFIX)) {
      sendError(res, body, req.path.slice(TRPC_PREFIX.length), 'trpc');
    } else {
      res.status(401).json(body);
    }
  };
}
