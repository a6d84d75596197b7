import { describe, expect, it } from 'vitest';
import { SseParser } from './sse.js';

describe('SseParser', () => {
  it('parses messages split across arbitrary chunks', () => {
    const text = 'retry: 2000\n\n: comment\nid: 1-0\nevent: ticket\ndata: {"a":1}\n\nid: 2-0\nevent: ticket\ndata: line1\ndata: line2\n\n';
    for (const size of [1, 3, 7, text.length]) {
      const parser = new SseParser();
      const out = [];
      for (let i = 0; i < text.length; i += size) out.push(...parser.push(text.slice(i, i + size)));
      expect(out).toEqual([
        { event: 'message', data: '', retry: 2000 },
        { id: '1-0', event: 'ticket', data: '{"a":1}' },
        { id: '2-0', event: 'ticket', data: 'line1\nline2' },
      ]);
    }
  });

  it('accepts CRLF and CR line endings', () => {
    const parser = new SseParser();
    expect(parser.push('data: a\r\n\r\ndata: b\r\r')).toEqual([
      { event: 'message', data: 'a' },
      { event: 'message', data: 'b' },
    ]);
  });
});
