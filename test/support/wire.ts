/**
 * Calls an API verb in either of its two wire formats, the way each format's clients send it,
 * and reads the error the way that format carries it. Whether a verb is a query (GET) or a
 * mutation (POST) comes from the production procedure table, not from a copy of it.
 */
import { expect } from 'vitest';
import { procedures } from '../../src/api/app.js';
import { type ErrorCode, HTTP_STATUS } from '../../src/domain/errors.js';
import { type ApiClient, type ApiResponse, TEST_TOKEN } from './api.js';

export type Wire = 'rest' | 'trpc';

export const WIRES: readonly Wire[] = ['rest', 'trpc'];

export const AUTH_HEADERS: Record<string, string> = { authorization: `Bearer ${TEST_TOKEN}` };

export const JSON_HEADERS: Record<string, string> = {
  ...AUTH_HEADERS,
  'content-type': 'application/json',
};

/** A call with no input at all: a GET with no query string, or a POST with no body. */
export const NO_INPUT: unique symbol = Symbol('no input');

/** JSON text sent exactly as written, for what JSON.stringify cannot say (1e400, `__proto__`). */
export class RawJson {
  constructor(readonly text: string) {}
}

/** JSON.stringify that splices RawJson in verbatim; undefined members are left out. */
export function toJson(value: unknown): string {
  if (value instanceof RawJson) return value.text;
  if (Array.isArray(value)) return `[${value.map(toJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const members = Object.entries(value)
      .filter(([, member]) => member !== undefined)
      .map(([key, member]) => `${JSON.stringify(key)}:${toJson(member)}`);
    return `{${members.join(',')}}`;
  }
  return JSON.stringify(value);
}

export function methodOf(verb: string): 'GET' | 'POST' {
  const proc = procedures[verb];
  if (!proc) throw new Error(`No procedure ${verb} in the API's table`);
  return proc.kind === 'query' ? 'GET' : 'POST';
}

export function pathOf(wire: Wire, verb: string): string {
  return wire === 'rest' ? `/api/${verb}` : `/api/trpc/${verb}`;
}

/** The JSON text that carries an input: as it is for REST, wrapped as `{"json": …}` for tRPC. */
export function payloadFor(wire: Wire, input: unknown): string {
  return toJson(wire === 'trpc' ? { json: input } : input);
}

/** An object of strings (or lists of strings) fits a plain query string; anything else does not. */
function asQueryParams(input: unknown): URLSearchParams | null {
  if (input === null || typeof input !== 'object' || Array.isArray(input)) return null;
  if (input instanceof RawJson) return null;
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(input)) {
    // One value is a plain string to the server; a list needs the parameter repeated.
    if (Array.isArray(value) && value.length < 2) return null;
    const values: unknown[] = Array.isArray(value) ? value : [value];
    if (!values.every((item) => typeof item === 'string')) return null;
    for (const item of values as string[]) params.append(key, item);
  }
  return params;
}

/**
 * REST: a query's input as `?field=…` when it is all text, else as `?input=<JSON>`; a mutation's
 * input as the JSON body. tRPC: the input wrapped as `{"json": …}`, in `?input=` or the body.
 */
export function send(
  client: ApiClient,
  wire: Wire,
  verb: string,
  input: unknown,
  headers: Record<string, string> = AUTH_HEADERS,
): Promise<ApiResponse> {
  const path = pathOf(wire, verb);
  const payload = input === NO_INPUT ? null : payloadFor(wire, input);

  if (methodOf(verb) === 'POST') {
    return client.raw(path, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      ...(payload !== null && { body: payload }),
    });
  }
  if (payload === null) return client.raw(path, { headers });
  const params = wire === 'rest' ? asQueryParams(input) : null;
  const query = params ? params.toString() : `input=${encodeURIComponent(payload)}`;
  return client.raw(query ? `${path}?${query}` : path, { headers });
}

export function errorCodeFor(status: number): ErrorCode | undefined {
  const entry = Object.entries(HTTP_STATUS).find(([, candidate]) => candidate === status);
  return entry?.[0] as ErrorCode | undefined;
}

/** The error body each format's clients expect; a REST body for a tRPC path is a wrong shape. */
export function errorShape(wire: Wire, status: number): Record<string, unknown> {
  const code = errorCodeFor(status) ?? expect.any(String);
  if (wire === 'rest') return { message: expect.any(String), code };
  return {
    error: {
      json: {
        message: expect.any(String),
        code: expect.any(Number),
        data: { code, httpStatus: status },
      },
    },
  };
}

export interface WireError {
  message: string;
  issues: { path: PropertyKey[] }[] | undefined;
}

/** The message and zod issues of an error body; empty when the body has neither shape. */
export function readError(wire: Wire, body: unknown): WireError {
  const shaped = (wire === 'rest' ? body : (body as TrpcErrorBody | null)?.error?.json) as
    | { message?: unknown; issues?: WireError['issues']; data?: { issues?: WireError['issues'] } }
    | null
    | undefined;
  const message = typeof shaped?.message === 'string' ? shaped.message : '';
  return { message, issues: wire === 'rest' ? shaped?.issues : shaped?.data?.issues };
}

interface TrpcErrorBody {
  error?: { json?: unknown };
}
