import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ERRORS } from '@civicloop/model';
import { SETTINGS } from '@civicloop/gateway';

const read = (name: string) => readFileSync(new URL(`./${name}`, import.meta.url), 'utf8');

describe('reference docs', () => {
  it('document every error code with its HTTP status', () => {
    const doc = read('errors.md');
    for (const [code, definition] of Object.entries(ERRORS)) {
      const row = doc.split('\n').find((line) => line.startsWith(`| \`${code}\` |`));
      expect(row, `${code} is missing from docs/errors.md`).toBeDefined();
      expect(row).toContain(`| ${definition.status || '—'} |`);
    }
  });

  it('document every configuration variable with its default', () => {
    const doc = read('configuration.md');
    for (const setting of SETTINGS) {
      const row = doc.split('\n').find((line) => line.startsWith(`| \`${setting.env}\` |`));
      expect(row, `${setting.env} is missing from docs/configuration.md`).toBeDefined();
      expect(row).toContain(setting.default === undefined ? '(unset)' : `\`${setting.default}\``);
    }
  });
});
