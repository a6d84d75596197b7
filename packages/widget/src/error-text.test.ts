import { describe, expect, it } from 'vitest';
import { ERRORS } from '@civicloop/model';
import { ConflictError, ConnectionError, ServerError } from '@civicloop/sdk';
import { errorText } from './error-text.js';

describe('errors as a resident reads them', () => {
  it('in Chinese has no English sentence inside: known codes in their own words, others with the code to quote', () => {
    expect(errorText(new ConnectionError({ code: 'CL_ERR_NETWORK', message: 'Could not reach https://gw: fetch failed', status: 0 }), 'zh-CN')).toBe(
      '网络连接失败，请检查网络后重试。',
    );
    expect(
      errorText(new ConflictError({ code: 'CL_ERR_ALREADY_RATED', message: 'This ticket was already rated after it was closed.', status: 409 }), 'zh-CN'),
    ).toBe('您已经评价过这件报事。');
    expect(errorText(new ServerError({ code: 'CL_ERR_INTERNAL', message: 'Internal error', status: 500 }), 'zh-CN')).toBe(
      '服务暂时不可用，请稍后再试（错误代码 CL_ERR_INTERNAL）。',
    );
    expect(errorText(new TypeError('Failed to fetch'), 'zh-CN')).toBe('出了点问题，请稍后再试。');
    // Every code, known or not: Chinese text; the only Latin letters are the code and image format names.
    for (const code of Object.keys(ERRORS)) {
      const text = errorText({ code, message: 'English words here' }, 'zh-CN');
      expect(text.replace(code, '').replace(/JPEG|PNG|WebP|HEIC/g, ''), code).not.toMatch(/[A-Za-z]/);
    }
  });

  it("in English is the gateway's message", () => {
    expect(errorText(new ConflictError({ code: 'CL_ERR_ALREADY_RATED', message: 'Already rated.', status: 409 }), 'en')).toBe('Already rated.');
  });
});
