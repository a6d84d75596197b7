import { signToken } from '@civicloop/sdk';

export interface WechatLogin {
  /** The mini-program's AppID and AppSecret (mp.weixin.qq.com, 开发管理 → 开发设置). */
  appId: string;
  appSecret: string;
  /** Where code2Session is served: WeChat's own, https://api.weixin.qq.com, unless set. */
  apiBase?: string;
}

/** What the mini-program is answered: a resident token, or why not and whether to try again. */
export type SessionAnswer =
  | { status: 200; body: { token: string; expiresAt: string } }
  | { status: 400 | 401 | 502 | 503; body: { error: string; errcode?: number } };

const TOKEN_TTL_SECONDS = 600;
// Codes are short strings from wx.login; anything else is refused before WeChat is asked.
const LOGIN_CODE = /^[A-Za-z0-9_-]{1,128}$/;
// WeChat's answers that mean "later": system busy, and the per-user frequency limit.
const TRY_AGAIN = new Set([-1, 45011]);

/**
 * A mini-program resident signing in: the code from `wx.login` is exchanged for their openid with
 * WeChat's code2Session (auth.code2Session: GET /sns/jscode2session), and a CivicLoop resident
 * token is signed for that openid with the partner secret key. The session_key WeChat also returns
 * stays here (it is never sent on). WeChat answers errors with HTTP 200 and an `errcode`, and not
 * always as application/json, so the body is read as text and parsed whatever its type.
 */
export async function exchangeLoginCode(login: WechatLogin, secretKey: string, code: unknown): Promise<SessionAnswer> {
  if (typeof code !== 'string' || !LOGIN_CODE.test(code)) return { status: 400, body: { error: 'send { "code": "<the code wx.login gave>" }' } };
  const query = new URLSearchParams({ appid: login.appId, secret: login.appSecret, js_code: code, grant_type: 'authorization_code' });
  let answer: { openid?: unknown; errcode?: unknown; errmsg?: unknown };
  try {
    const response = await fetch(`${(login.apiBase ?? 'https://api.weixin.qq.com').replace(/\/+$/, '')}/sns/jscode2session?${query}`, {
      signal: AbortSignal.timeout(5000),
    });
    if (!response.ok) return { status: 502, body: { error: `WeChat answered HTTP ${response.status}` } };
    answer = JSON.parse(await response.text()) as typeof answer;
  } catch (error) {
    return { status: 503, body: { error: `WeChat could not be reached: ${(error as Error).message}` } };
  }
  const errcode = typeof answer.errcode === 'number' ? answer.errcode : 0;
  if (errcode !== 0 || typeof answer.openid !== 'string' || answer.openid === '') {
    const error = `WeChat refused the login code: ${typeof answer.errmsg === 'string' ? answer.errmsg : 'no openid'}`;
    return { status: TRY_AGAIN.has(errcode) ? 503 : 401, body: { error, errcode } };
  }
  const now = new Date();
  // The openid is this partner's id for the person; the gateway keeps it in the partner's namespace.
  const token = await signToken({ secretKey, sub: `wx:${answer.openid}`, role: 'citizen', ttlSeconds: TOKEN_TTL_SECONDS, now });
  return { status: 200, body: { token, expiresAt: new Date(now.getTime() + TOKEN_TTL_SECONDS * 1000).toISOString() } };
}
