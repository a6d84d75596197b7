/// <reference types="miniprogram-api-typings" />
import type { WxLike } from './wechat.js';

// Checked by the repository's type-check (npm test), not run: the adapter's view of wx must be
// what WeChat's own typings (miniprogram-api-typings) declare, so the real wx can be passed in.
// This is how wx.request's lack of PATCH was found.
export const fits = (wx: WechatMiniprogram.Wx): WxLike => wx;
