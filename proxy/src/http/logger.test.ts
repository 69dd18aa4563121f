import { describe, expect, it } from 'vitest';
import { createLogger, redact } from './logger.ts';

describe('logger', () => {
  it('writes one JSON object per line with base and call fields', () => {
    const lines: string[] = [];
    const log = createLogger({ write: (l) => lines.push(l) }).child({ component: 'x' });
    log.info('hello', { n: 1 });
    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0])).toMatchObject({ level: 'info', msg: 'hello', component: 'x', n: 1 });
  });

  it('drops lines below the level', () => {
    const lines: string[] = [];
    createLogger({ level: 'warn', write: (l) => lines.push(l) }).info('quiet');
    expect(lines).toHaveLength(0);
  });

  it.each([['password'], ['secretAccessKey'], ['Authorization'], ['token'], ['api_key']])(
    'redacts values under %s, at any depth',
    (key) => {
      const out = JSON.stringify(redact({ a: { b: [{ [key]: 'hunter2' }] } }));
      expect(out).not.toContain('hunter2');
      expect(out).toContain('[redacted]');
    },
  );
});
