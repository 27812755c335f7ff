/**
 * Reading the engine's error messages: the texts below are as dockerd 26 words them.
 */
import { describe, expect, it } from 'vitest';
import {
  engineReason,
  hostAddressIn,
  portTaken,
  taskLeftBehind,
} from '../../../src/runtime/docker/errors.js';

describe('engine error messages', () => {
  it('tells a start that raced an engine shutdown and left its task behind', () => {
    const reason =
      'task 30aae8da73488472db35d02047c59af9bcf58697f843ea69ca7a47123bc36d6b: already exists';
    expect(taskLeftBehind(reason)).toBe(true);
    expect(taskLeftBehind('a container named "x" already exists')).toBe(false);
    expect(taskLeftBehind('Conflict. The container name "/x" is already in use')).toBe(false);
  });

  it('tells a port held by someone else, and where', () => {
    const bind =
      'driver failed programming external connectivity on endpoint x: Bind for ' +
      '127.0.0.1:6380 failed: port is already allocated';
    expect(portTaken(bind)).toBe(true);
    expect(hostAddressIn(bind)).toBe('127.0.0.1:6380');
    const listen = 'listen tcp6 [::]:6381: bind: address already in use';
    expect(portTaken(listen)).toBe(true);
    expect(hostAddressIn(listen)).toBe('[::]:6381');
    expect(portTaken('no such image')).toBe(false);
  });

  it("reads the engine's own reason, and explains a refused SSH host key", () => {
    expect(engineReason({ statusCode: 404, json: { message: 'No such container: x ' } })).toBe(
      'No such container: x',
    );
    expect(engineReason(new Error('(HTTP code 500) server error - boom'))).toBe('boom');
    expect(engineReason(new Error('Host denied (verification failed)'))).toMatch(
      /host key is not the one pinned/,
    );
  });
});
