import { describe, expect, it } from 'vitest';
import { WrittenAttributions } from './written-attributions.js';

describe('WrittenAttributions', () => {
  it('recalls what it wrote while the cursor is still where its write left it', () => {
    const memory = new WrittenAttributions<string>(10);
    memory.wrote('t1', '0-0', '5-0', [
      ['a', 'A1'],
      ['b', 'B1'],
    ]);
    expect(memory.recall('t1', '5-0', ['a', 'b', 'c'])).toEqual({
      known: new Map([
        ['a', 'A1'],
        ['b', 'B1'],
      ]),
      unknown: ['c'],
    });
    // A later batch from the same cursor keeps the rest and replaces what it wrote.
    memory.wrote('t1', '5-0', '9-0', [['a', 'A2']]);
    expect(memory.recall('t1', '9-0', ['a', 'b'])).toEqual({
      known: new Map([
        ['a', 'A2'],
        ['b', 'B1'],
      ]),
      unknown: [],
    });
    // Another tenant's cursor is its own.
    expect(memory.recall('t2', '9-0', ['a'])).toEqual({ known: new Map(), unknown: ['a'] });
  });

  it('trusts nothing once the cursor is somewhere else, even if it comes back to a cursor it knew', () => {
    const memory = new WrittenAttributions<string>(10);
    memory.wrote('t1', '0-0', '5-0', [['a', 'A1']]);
    // Another gateway counted 5-0..7-0: this one sees cursor 7-0.
    expect(memory.recall('t1', '7-0', ['a'])).toEqual({ known: new Map(), unknown: ['a'] });
    expect(memory.recall('t1', '5-0', ['a'])).toEqual({ known: new Map(), unknown: ['a'] });
    // Writing from a cursor it did not leave starts afresh: older entries are not trusted.
    memory.wrote('t1', '7-0', '8-0', [['b', 'B1']]);
    expect(memory.recall('t1', '8-0', ['a', 'b'])).toEqual({ known: new Map([['b', 'B1']]), unknown: ['a'] });
    // A batch that was not applied forgets the tenant.
    memory.forget('t1');
    expect(memory.recall('t1', '8-0', ['b'])).toEqual({ known: new Map(), unknown: ['b'] });
  });

  it('holds at most its capacity, dropping the least recently written', () => {
    const memory = new WrittenAttributions<number>(3);
    memory.wrote('t1', '0-0', '1-0', [
      ['a', 1],
      ['b', 2],
      ['c', 3],
    ]);
    memory.wrote('t1', '1-0', '2-0', [
      ['a', 4],
      ['d', 5],
    ]);
    expect(memory.recall('t1', '2-0', ['a', 'b', 'c', 'd'])).toEqual({
      known: new Map([
        ['a', 4],
        ['c', 3],
        ['d', 5],
      ]),
      unknown: ['b'],
    });
  });
});
